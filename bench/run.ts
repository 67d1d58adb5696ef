/**
 * `npm run bench`: every scenario beside its baselines, in one run, on this machine.
 *
 * Each server (Portcullis, the bare Fastify route, Better Auth) runs in its own child process;
 * the bare argon2id rate is measured in its own process too; autocannon drives them from here.
 * Writes a markdown table to bench/results/latest.md and prints it.
 *
 * Environment: BENCH_DURATION (seconds per measurement, default 6; 2 with BENCH_QUICK=1),
 * BENCH_CONNECTIONS (default 50), BENCH_PG_URL (a PostgreSQL server URL; default
 * postgres://postgres@127.0.0.1:5432/postgres — a fresh database is created and dropped),
 * BENCH_REDIS_URL (default redis://127.0.0.1:6379), BENCH_SKIP_PG=1, BENCH_FROM_SOURCE=1 (run
 * the server with tsx instead of the built dist/), BENCH_LOG_LEVEL (server log level, default warn),
 * BENCH_LOGOUT_POOL (sessions for the logout row), BENCH_VAULT_LOGINS (logins the upsert row stores, default 10000),
 * BENCH_RUNNER_SECONDS (how long the login runner row signs in, default 30; 10 with BENCH_QUICK=1), BENCH_SKIP_RUNNER=1,
 * BENCH_ONLY=runner (only that row).
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type autocannon from 'autocannon';
import { Redis } from 'ioredis';
import pg from 'pg';
import { startLoginSites, USER } from '../test/helpers/login-sites.js';
import { type LoadOptions, type Measurement, measure, refreshChain } from './lib/load.js';
import { mintSessions } from './lib/mint.js';
import { freePort, type Proc, quiesce, runToEnd, startProcess } from './lib/proc.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const QUICK = process.env.BENCH_QUICK === '1';
const DURATION = Number(process.env.BENCH_DURATION ?? (QUICK ? 2 : 6));
const WARMUP = QUICK ? 0.5 : 1;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const PG_BASE = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const FROM_SOURCE = process.env.BENCH_FROM_SOURCE === '1';
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'warn';
const ADMIN = { username: 'bench-admin', password: 'correct horse battery staple' };
const BA_USER = { email: 'bench@example.test', password: 'correct horse battery staple' };
const RSS_LIMIT_MB = 200;
const P99_LIMIT_MS = 10;

type Backend = 'SQLite' | 'PostgreSQL + Redis';

interface Row {
  scenario: string;
  backend: Backend | '—';
  m?: Measurement;
  rssMb?: number;
  /** Baseline name and its rate, for the ratio column. */
  vs?: { name: string; rps: number; min?: number; minTimes?: number };
  vs2?: { name: string; rps: number; minTimes: number };
  /** Published figures of other servers (not measured here): shown as a ratio, no target. */
  published?: Array<{ name: string; rps: number }>;
  p99Target?: boolean;
  /** Our server's rows count zero errors and RSS as targets. */
  ours?: boolean;
  note?: string;
}

const rows: Row[] = [];
const notes: string[] = [];
const log = (msg: string): void => {
  process.stderr.write(`[bench] ${msg}\n`);
};

// ---------- processes ----------

function serverArgs(): string[] {
  return FROM_SOURCE ? ['--import', 'tsx', 'src/cli/index.ts', 'serve'] : ['dist/cli/index.js', 'serve'];
}

/** One master key for every instance of a run (and the in-process session minting). */
const BENCH_MASTER_KEY = randomBytes(32).toString('base64');

function portcullisEnv(dataDir: string, port: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'production',
    PORTCULLIS_PORT: String(port),
    PORTCULLIS_HOST: '127.0.0.1',
    PORTCULLIS_DATA_DIR: dataDir,
    PORTCULLIS_PUBLIC_URL: 'http://127.0.0.1',
    // Production refuses an http public URL and a generated master key; the bench serves loopback only.
    PORTCULLIS_ALLOW_INSECURE_PUBLIC_URL: 'true',
    PORTCULLIS_MASTER_KEY: BENCH_MASTER_KEY,
    PORTCULLIS_LOGIN_RATE_PER_IP: '0',
    PORTCULLIS_ADMIN_USERNAME: ADMIN.username,
    PORTCULLIS_ADMIN_PASSWORD: ADMIN.password,
    PORTCULLIS_LOG_LEVEL: LOG_LEVEL,
    // Metrics on, as a scraped production instance runs: their per-request hook stays in every figure.
    PORTCULLIS_METRICS_TOKEN: 'bench-metrics-token-local-only-0123456789',
    // The per-client token limit stays on (its cost is in the figures) but high enough not to refuse.
    PORTCULLIS_OIDC_TOKEN_RATE: '10000000',
    ...extra,
  };
}

async function startPortcullis(env: Record<string, string>): Promise<Proc> {
  return startProcess(serverArgs(), env, Number(env.PORTCULLIS_PORT), ROOT);
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<any> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${url} → ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

const load = (base: Omit<LoadOptions, 'connections' | 'duration'>, connections = CONNECTIONS): LoadOptions => ({
  connections,
  duration: DURATION,
  ...base,
});

/** Measures while sampling the server's resident set; answers the measurement and the process's peak RSS. */
async function measureOn(procs: Proc[], targets: LoadOptions[]): Promise<{ m: Measurement; rssMb: number }> {
  await quiesce(procs);
  const m = await measure(targets, WARMUP, () => quiesce(procs));
  const rssMb = Math.max(...procs.map((p) => p.peakRssMb()));
  return { m, rssMb };
}

// ---------- baselines ----------

async function bareArgon2(): Promise<Measurement> {
  const out = await runToEnd(
    ['--import', 'tsx', 'bench/baselines/argon2.ts'],
    { BENCH_CONNECTIONS: String(CONNECTIONS), BENCH_DURATION: String(DURATION), BENCH_WARMUP: String(WARMUP) },
    ROOT,
  );
  const r = JSON.parse(out.trim().split('\n').pop() as string) as { rate: number; p50: number; p99: number; ops: number };
  return { rps: r.rate, p50: r.p50, p99: r.p99, errors: 0, total: r.ops, failures: {} };
}

async function bareFastify(): Promise<{ m: Measurement; rssMb: number }> {
  const port = await freePort();
  const proc = await startProcess(['--import', 'tsx', 'bench/baselines/bare-fastify.ts'], { PORT: String(port) }, port, ROOT);
  try {
    return await measureOn([proc], [load({ url: `${proc.url}/bare` })]);
  } finally {
    await proc.stop();
  }
}

// ---------- Portcullis scenarios ----------

interface Session {
  token: string;
  apiKey: string;
}

async function signIn(proc: Proc): Promise<Session> {
  const login = await post(`${proc.url}/v1/auth/login`, { username: ADMIN.username, password: ADMIN.password });
  const key = await post(`${proc.url}/v1/api-keys`, { name: `bench-${Date.now()}` }, { authorization: `Bearer ${login.token}` });
  return { token: login.token, apiKey: key.clientSecret };
}

const loginTarget = (url: string, connections = CONNECTIONS): LoadOptions =>
  load(
    {
      url: `${url}/v1/auth/login`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: ADMIN.username, password: ADMIN.password }),
    },
    connections,
  );

const tokenTarget = (url: string, token: string, connections = CONNECTIONS): LoadOptions =>
  load({ url: `${url}/v1/auth/user`, headers: { authorization: `Bearer ${token}` } }, connections);

/** Each connection rotates its own refresh token chain, starting from a minted session. */
function refreshTarget(url: string, pool: string[]): LoadOptions {
  return load({
    url: `${url}/v1/auth/refresh`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    setupClient: refreshChain(pool),
  });
}

/** Each request signs out a different minted session with its access token. */
function logoutTarget(url: string, pool: string[], exhausted: { count: number }, amount: number, warmupAmount: number): LoadOptions {
  const requests: autocannon.Request[] = [
    {
      method: 'POST',
      path: '/v1/auth/logout',
      setupRequest: (req) => {
        const token = pool.pop();
        if (!token) exhausted.count++;
        return { ...req, headers: { ...req.headers, authorization: `Bearer ${token ?? 'pool.exhausted.token'}` } };
      },
    },
  ];
  return { ...load({ url, requests }), amount, warmupAmount };
}

// ---------- OpenID Provider ----------

/** Ory Hydra's BENCHMARKS.md (2 CPUs, in-memory storage) and Keycloak's sizing guide (per vCPU). */
const HYDRA_CLIENT_CREDENTIALS = 411;
const HYDRA_INTROSPECTION = 7934;
const KEYCLOAK_CLIENT_CREDENTIALS_PER_VCPU = 120;

async function oidcSuite(backend: Backend, proc: Proc, session: Session): Promise<void> {
  const created = await post(
    `${proc.url}/v1/oauth-clients`,
    { name: 'bench service', grantTypes: ['client_credentials'] },
    { 'x-api-key': session.apiKey },
  );
  const basic = `Basic ${Buffer.from(`${created.client.clientId}:${created.clientSecret}`).toString('base64')}`;
  const form = { 'content-type': 'application/x-www-form-urlencoded', authorization: basic };
  const vcpus = cpus().length;

  log(`${backend}: OAuth client credentials`);
  let r = await measureOn(
    [proc],
    [load({ url: `${proc.url}/oauth2/token`, method: 'POST', headers: form, body: 'grant_type=client_credentials' })],
  );
  rows.push({
    scenario: 'OAuth token `POST /oauth2/token` (client credentials, client_secret_basic)',
    backend,
    ...r,
    ours: true,
    published: [
      { name: 'Ory Hydra (published, 2 CPUs, in-memory)', rps: HYDRA_CLIENT_CREDENTIALS },
      {
        name: `Keycloak sizing (${KEYCLOAK_CLIENT_CREDENTIALS_PER_VCPU}/s per vCPU × ${vcpus})`,
        rps: KEYCLOAK_CLIENT_CREDENTIALS_PER_VCPU * vcpus,
      },
    ],
  });

  const issued = await fetch(`${proc.url}/oauth2/token`, { method: 'POST', headers: form, body: 'grant_type=client_credentials' });
  const token = ((await issued.json()) as { access_token: string }).access_token;
  log(`${backend}: OAuth introspection`);
  r = await measureOn([proc], [load({ url: `${proc.url}/oauth2/introspect`, method: 'POST', headers: form, body: `token=${token}` })]);
  rows.push({
    scenario: 'OAuth introspection `POST /oauth2/introspect` (active token)',
    backend,
    ...r,
    ours: true,
    published: [{ name: 'Ory Hydra (published, 2 CPUs, in-memory)', rps: HYDRA_INTROSPECTION }],
  });
}

// ---------- vault ----------

/** Logins stored by the upsert row, and listed by `GET /logins` (BENCH_VAULT_LOGINS). */
const VAULT_LOGINS = Number(process.env.BENCH_VAULT_LOGINS ?? 10_000);
/** A base32 TOTP seed (RFC 6238 test key "12345678901234567890"). */
const TOTP_SEED = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

/** Seed 000's body for the n-th stored login: a password and a TOTP seed, both sealed at rest. */
const vaultLogin = (n: number) => ({
  name: `Bench site ${n}`,
  authenticationUrl: `https://site-${n % 100}.example.test/login`,
  homeUrl: `https://site-${n % 100}.example.test/`,
  loginConfiguration: {
    username: `bench-user-${n}`,
    email: `bench-user-${n}@example.test`,
    password: `bench-password-${n}`,
    twoFactorAuthConfiguration: { method: 'TOTP', alwaysRequired: true, totpSecretKey: TOTP_SEED },
  },
  persistSession: false,
});

/** Each request creates the next login (a new username): the run stops after `amount` of them. */
function upsertTarget(url: string, apiKey: string, next: { n: number }, amount: number, warmupAmount: number): LoadOptions {
  const requests: autocannon.Request[] = [
    {
      method: 'POST',
      path: '/logins/upsert',
      headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
      setupRequest: (req) => ({ ...req, body: JSON.stringify(vaultLogin(next.n++)) }),
    },
  ];
  return { ...load({ url, requests }), amount, warmupAmount };
}

/** Upsert (filling the vault to VAULT_LOGINS), TOTP generation, and the first page of the full vault. */
async function vaultSuite(backend: Backend, proc: Proc, session: Session, analyze?: () => Promise<void>): Promise<void> {
  const key = { 'x-api-key': session.apiKey };
  const warmupAmount = Math.ceil(VAULT_LOGINS / 10);
  const next = { n: 0 };
  log(`${backend}: vault upsert (${VAULT_LOGINS} new logins)`);
  let r = await measureOn([proc], [upsertTarget(proc.url, session.apiKey, next, VAULT_LOGINS - warmupAmount, warmupAmount)]);
  rows.push({ scenario: '`POST /logins/upsert` (new login; password + TOTP seed sealed)', backend, ...r, ours: true });

  const totpLogin = await post(`${proc.url}/logins/upsert`, vaultLogin(VAULT_LOGINS), key);
  log(`${backend}: vault TOTP`);
  r = await measureOn([proc], [load({ url: `${proc.url}/logins/${totpLogin.id}/totp`, method: 'POST', headers: key })]);
  rows.push({ scenario: '`POST /logins/{id}/totp` (seed opened, RFC 6238 code)', backend, ...r, ours: true });

  // The vault was filled seconds ago: PostgreSQL's autovacuum would refresh the planner's
  // statistics within a minute; without them it sorts the whole organization for every page.
  if (analyze) await analyze();
  const listed = await fetch(`${proc.url}/logins`, { headers: key });
  const page = (await listed.json()) as { logins: unknown[] };
  const stored = next.n + 1;
  log(`${backend}: vault list (${stored} logins stored)`);
  r = await measureOn([proc], [load({ url: `${proc.url}/logins`, headers: key })]);
  rows.push({
    scenario: `\`GET /logins\` (first page of ${page.logins.length}, ${fmt(stored)} logins stored)`,
    backend,
    ...r,
    ours: true,
  });
}

async function portcullisSuite(
  backend: Backend,
  env: Record<string, string>,
  ba: Record<string, string>,
  analyze?: () => Promise<void>,
): Promise<void> {
  log(`${backend}: starting Portcullis`);
  const proc = await startPortcullis(env);
  let tokenRow: Row | undefined;
  try {
    const session = await signIn(proc);

    log(`${backend}: login`);
    let r = await measureOn([proc], [loginTarget(proc.url)]);
    rows.push({ scenario: 'password login `POST /v1/auth/login`', backend, ...r, vs: { name: 'argon2id', rps: 0, min: 0.9 }, ours: true });

    log(`${backend}: token check`);
    r = await measureOn([proc], [tokenTarget(proc.url, session.token)]);
    tokenRow = {
      scenario: 'token check `GET /v1/auth/user` (Bearer)',
      backend,
      ...r,
      vs: { name: 'bare Fastify', rps: 0, min: 0.5 },
      p99Target: true,
      ours: true,
    };
    rows.push(tokenRow);

    log(`${backend}: API-key check`);
    r = await measureOn([proc], [load({ url: `${proc.url}/v1/auth/user`, headers: { 'x-api-key': session.apiKey } })]);
    rows.push({
      scenario: 'API-key check `GET /v1/auth/user` (x-api-key)',
      backend,
      ...r,
      vs: { name: 'bare Fastify', rps: 0 },
      ours: true,
    });

    log(`${backend}: refresh`);
    const refreshPool = (await mintSessions(env, ADMIN.username, CONNECTIONS * 4)).map((s) => s.refreshToken);
    r = await measureOn([proc], [refreshTarget(proc.url, refreshPool)]);
    rows.push({ scenario: 'refresh `POST /v1/auth/refresh` (rotating)', backend, ...r, ours: true });

    // One session per request: the run stops when the pool is used up (autocannon `amount`).
    const poolSize = Number(process.env.BENCH_LOGOUT_POOL ?? (QUICK ? 1500 : 5000));
    const warmupAmount = Math.ceil(poolSize / 10);
    log(`${backend}: minting ${poolSize} sessions for logout`);
    const t0 = Date.now();
    const logoutPool = (await mintSessions(env, ADMIN.username, poolSize)).map((s) => s.token);
    log(`${backend}: minted in ${Date.now() - t0} ms; logout`);
    const exhausted = { count: 0 };
    r = await measureOn([proc], [logoutTarget(proc.url, logoutPool, exhausted, poolSize - warmupAmount, warmupAmount)]);
    rows.push({
      scenario: 'logout `POST /v1/auth/logout` (Bearer)',
      backend,
      ...r,
      ours: true,
      ...(exhausted.count > 0
        ? { note: `pool of ${poolSize} ran out: ${exhausted.count} requests carried an invalid token (still 200)` }
        : {}),
    });

    await oidcSuite(backend, proc, session);
    await vaultSuite(backend, proc, session, analyze);
  } finally {
    await proc.stop();
  }

  log(`${backend}: starting Better Auth`);
  const baPort = await freePort();
  const baProc = await startProcess(['--import', 'tsx', 'bench/peer/better-auth-server.ts'], { ...ba, PORT: String(baPort) }, baPort, ROOT);
  try {
    const signIn = await fetch(`${baProc.url}/api/auth/sign-in/email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: baProc.url },
      body: JSON.stringify(BA_USER),
    });
    const cookie = (signIn.headers.getSetCookie()[0] ?? '').split(';')[0] as string;
    if (!signIn.ok || !cookie) throw new Error(`Better Auth sign-in failed: ${signIn.status}`);
    log(`${backend}: Better Auth sign-in`);
    let r = await measureOn(
      [baProc],
      [
        load({
          url: `${baProc.url}/api/auth/sign-in/email`,
          method: 'POST',
          headers: { 'content-type': 'application/json', origin: baProc.url },
          body: JSON.stringify(BA_USER),
        }),
      ],
    );
    rows.push({ scenario: 'Better Auth `sign-in/email` (scrypt)', backend, ...r });
    log(`${backend}: Better Auth get-session`);
    r = await measureOn([baProc], [load({ url: `${baProc.url}/api/auth/get-session`, headers: { cookie, origin: baProc.url } })]);
    rows.push({ scenario: 'Better Auth `get-session` (cookie)', backend, ...r });
    if (tokenRow) tokenRow.vs2 = { name: 'Better Auth get-session', rps: r.m.rps, minTimes: 10 };
  } finally {
    await baProc.stop();
  }
}

async function scalingSuite(envFor: (port: number) => Record<string, string>): Promise<void> {
  for (const n of [1, 2]) {
    const procs: Proc[] = [];
    try {
      for (let i = 0; i < n; i++) procs.push(await startPortcullis(envFor(await freePort())));
      const first = procs[0] as Proc;
      const session = await signIn(first);
      const per = Math.max(1, Math.round(CONNECTIONS / n));
      log(`scaling: login on ${n} process(es)`);
      let r = await measureOn(
        procs,
        procs.map((p) => loginTarget(p.url, per)),
      );
      rows.push({
        scenario: `scaling: login, ${n} process${n > 1 ? 'es' : ''} (${per}×${n} connections)`,
        backend: 'PostgreSQL + Redis',
        ...r,
        vs: { name: 'argon2id', rps: 0 },
        ours: true,
      });
      log(`scaling: token check on ${n} process(es)`);
      r = await measureOn(
        procs,
        procs.map((p) => tokenTarget(p.url, session.token, per)),
      );
      rows.push({
        scenario: `scaling: token check, ${n} process${n > 1 ? 'es' : ''} (${per}×${n} connections)`,
        backend: 'PostgreSQL + Redis',
        ...r,
        vs: { name: 'bare Fastify', rps: 0 },
        ours: true,
      });
    } finally {
      await Promise.all(procs.map((p) => p.stop()));
    }
  }
}

// ---------- import (issue 20) ----------

/** Users in the import file (BENCH_IMPORT_USERS; default 100,000, 10,000 with BENCH_QUICK). */
const IMPORT_USERS = Number(process.env.BENCH_IMPORT_USERS ?? (QUICK ? 10_000 : 100_000));

/** A JSON lines file of users with precomputed cheap hashes ({SSHA512}: one SHA-512 each), written once per run. */
function importFile(dir: string): string {
  const file = join(dir, 'import.jsonl');
  const lines: string[] = [];
  for (let i = 0; i < IMPORT_USERS; i++) {
    const salt = randomBytes(8);
    const hash = createHash('sha512').update(`bench password ${i}`).update(salt).digest();
    lines.push(
      JSON.stringify({
        userName: `bench-import-${i}`,
        email: `bench-import-${i}@example.test`,
        firstName: 'Bench',
        lastName: `User ${i}`,
        externalId: `ext-${i}`,
        groups: ['imported'],
        passwordHash: `{SSHA512}${Buffer.concat([hash, salt]).toString('base64')}`,
      }),
    );
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** `portcullis import` of the file, then a re-run that must change nothing; rows give users per second. */
async function importSuite(backend: Backend, env: Record<string, string>, file: string): Promise<void> {
  const args = FROM_SOURCE ? ['--import', 'tsx', 'src/cli/index.ts'] : ['dist/cli/index.js'];
  for (const run of ['first', 're-run'] as const) {
    log(`${backend}: import of ${IMPORT_USERS} users (${run})`);
    const t0 = performance.now();
    const out = await runToEnd([...args, 'import', file, '--no-progress'], env, ROOT);
    const seconds = (performance.now() - t0) / 1000;
    const report = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as {
      created: number;
      updated: number;
      unchanged: number;
      failed: number;
    };
    const wrong = run === 'first' ? IMPORT_USERS - report.created : report.created + report.updated;
    const rps = IMPORT_USERS / seconds;
    rows.push({
      scenario:
        run === 'first'
          ? `import ${fmt(IMPORT_USERS)} users (\`portcullis import\`, {SSHA512} hashes), users/s`
          : `import re-run of the same file (changes nothing), users/s`,
      backend,
      m: { rps, p50: Number.NaN, p99: Number.NaN, errors: report.failed + wrong, total: IMPORT_USERS, failures: {} },
      note: `${fmt(seconds, 1)} s wall, process start included; created ${report.created}, updated ${report.updated}, unchanged ${report.unchanged}`,
    });
  }
}

// ---------- PostgreSQL + Redis plumbing ----------

async function pgAvailable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_BASE, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

async function pgAdmin(sql: string, url = PG_BASE): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

async function dropRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } catch {
    // best effort
  } finally {
    redis.disconnect();
  }
}

// ---------- login runner ----------

/** Resident set of the processes descending from `root` (the runner's Chromium processes), MB. */
function descendantsRssMb(root: number): number {
  const parent = new Map<number, number>();
  const rss = new Map<number, number>();
  for (const d of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${d}/status`, 'utf8'));
      rss.set(Number(d), m ? Number(m[1]) : 0);
    } catch {
      // Gone while read.
    }
  }
  let kb = 0;
  for (const pid of parent.keys()) {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) {
      if (p === root) {
        kb += rss.get(pid) ?? 0;
        break;
      }
    }
  }
  return kb / 1024;
}

/**
 * Sign-ins per minute by the login runner against the plain fixture site (served from this process on
 * loopback), at the default concurrency, keeping its queue fed. The server runs in development mode:
 * production refuses PORTCULLIS_RUNNER_ALLOW_PRIVATE_HOSTS, and the fixture is on loopback.
 */
async function runnerSuite(dir: string): Promise<void> {
  const seconds = Number(process.env.BENCH_RUNNER_SECONDS ?? (QUICK ? 10 : 30));
  const sites = await startLoginSites();
  const env = { ...portcullisEnv(dir, await freePort()), NODE_ENV: 'development', PORTCULLIS_RUNNER_ALLOW_PRIVATE_HOSTS: 'true' };
  log('SQLite: login runner (plain fixture, default concurrency)');
  const proc = await startPortcullis(env);
  try {
    const session = await signIn(proc);
    const key = { 'x-api-key': session.apiKey };
    const login = await post(
      `${proc.url}/logins/create`,
      {
        name: 'bench plain',
        authenticationUrl: `${sites.url}/plain/login`,
        homeUrl: `${sites.url}/plain/home`,
        loginConfiguration: { username: 'alice-bench', password: USER.password },
      },
      key,
    );
    const durations: number[] = [];
    let failed = 0;
    let peakChromiumMb = 0;
    const sampler = setInterval(() => {
      peakChromiumMb = Math.max(peakChromiumMb, descendantsRssMb(proc.pid));
    }, 250);
    const until = Date.now() + seconds * 1000;
    // Four callers, each starting a sign-in and following it to its end: the two slots stay busy.
    const caller = async () => {
      while (Date.now() < until) {
        const t0 = performance.now();
        const started = await fetch(`${proc.url}/logins/${login.id}/authenticate`, { method: 'POST', headers: key });
        if (started.status !== 200) {
          failed++;
          await new Promise((r) => setTimeout(r, 200));
          continue;
        }
        const { authenticationId } = (await started.json()) as { authenticationId: string };
        for (;;) {
          await new Promise((r) => setTimeout(r, 100));
          const run = (await (await fetch(`${proc.url}/authentications/${authenticationId}`, { headers: key })).json()) as {
            status: string;
          };
          if (run.status === 'SUCCEEDED') {
            durations.push(performance.now() - t0);
            break;
          }
          if (run.status === 'FAILED' || run.status === 'CANCELLED') {
            failed++;
            break;
          }
        }
      }
    };
    const t0 = performance.now();
    await Promise.all([caller(), caller(), caller(), caller()]);
    const elapsed = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    durations.sort((a, b) => a - b);
    const q = (f: number) => durations[Math.min(durations.length - 1, Math.floor(f * durations.length))] ?? Number.NaN;
    const perMinute = (durations.length / elapsed) * 60;
    rows.push({
      scenario: `login runner: sign-ins against the plain fixture (concurrency 2, ${Math.round(elapsed)} s; 4 callers; req/s = sign-ins/s, p50/p99 = request to SUCCEEDED incl. queue wait)`,
      backend: 'SQLite',
      m: {
        rps: durations.length / elapsed,
        p50: q(0.5),
        p99: q(0.99),
        errors: failed,
        total: durations.length + failed,
        failures: failed ? { failed } : {},
      },
      rssMb: proc.peakRssMb(),
      note: `**${fmt(perMinute)} sign-ins/min**; peak summed RSS of its Chromium processes ${fmt(peakChromiumMb)} MB (server RSS in its column)`,
    });
  } finally {
    await proc.stop();
    await sites.close();
  }
}

// ---------- table ----------

const fmt = (n: number, digits = 0): string =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '—';
const mark = (ok: boolean): string => (ok ? '✅' : '❌');

function render(baselines: { argon2: Measurement; fastify: Measurement }, started: Date, seconds: number): string {
  const lines: string[] = [];
  lines.push('# Portcullis benchmark — latest run', '');
  lines.push(
    `${started.toISOString()} · Node ${process.version} · ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'} · ` +
      `${CONNECTIONS} connections · ${DURATION} s per measurement (+${WARMUP} s warm-up) · server log level \`${LOG_LEVEL}\` · ` +
      `server from ${FROM_SOURCE ? 'source (tsx)' : 'dist/'} · total ${Math.round(seconds)} s${QUICK ? ' · QUICK mode' : ''}`,
    '',
  );
  lines.push(
    '| scenario | backend | req/s | p50 ms | p99 ms | errors | peak RSS MB | vs baseline | targets |',
    '|---|---|---:|---:|---:|---:|---:|---|---|',
  );
  for (const row of rows) {
    if (!row.m) {
      lines.push(`| ${row.scenario} | ${row.backend} | — | — | — | — | — | — | ${row.note ?? ''} |`);
      continue;
    }
    const m = row.m;
    const targets: string[] = [];
    let vs = '';
    if (row.vs) {
      const base = row.vs.name === 'argon2id' ? baselines.argon2.rps : baselines.fastify.rps;
      const ratio = m.rps / base;
      vs = `${fmt(ratio * 100)}% of ${row.vs.name}`;
      if (row.vs.min !== undefined) targets.push(`≥ ${fmt(row.vs.min * 100)}% ${row.vs.name} ${mark(ratio >= row.vs.min)}`);
    }
    if (row.vs2) {
      const times = m.rps / row.vs2.rps;
      vs += `${vs ? '; ' : ''}${fmt(times, 1)}× ${row.vs2.name}`;
      targets.push(`≥ ${row.vs2.minTimes}× BA ${mark(times >= row.vs2.minTimes)}`);
    }
    for (const other of row.published ?? []) vs += `${vs ? '; ' : ''}${fmt(m.rps / other.rps, 1)}× ${other.name} ${fmt(other.rps)}/s`;
    if (row.p99Target) targets.push(`p99 < ${P99_LIMIT_MS} ms ${mark(m.p99 < P99_LIMIT_MS)}`);
    if (row.ours) {
      targets.push(`0 errors ${mark(m.errors === 0)}`);
      targets.push(`RSS < ${RSS_LIMIT_MB} MB ${mark((row.rssMb ?? 0) < RSS_LIMIT_MB)}`);
    }
    if (row.note) targets.push(row.note);
    if (m.errors > 0) {
      targets.push(
        `failures: ${Object.entries(m.failures)
          .map(([k, v]) => `${k}×${v}`)
          .join(', ')}`,
      );
    }
    lines.push(
      `| ${row.scenario} | ${row.backend} | ${fmt(m.rps)} | ${fmt(m.p50, 1)} | ${fmt(m.p99, 1)} | ${fmt(m.errors)} | ${fmt(row.rssMb ?? Number.NaN)} | ${vs} | ${targets.join(' · ')} |`,
    );
  }
  lines.push('');
  lines.push(
    "req/s counts 2xx answers only; errors = non-2xx + socket errors + timeouts; peak RSS is the server process's VmHWM " +
      "(its lifetime peak up to the end of that row); p50/p99 are autocannon's latencies. The bare argon2id row is " +
      `${CONNECTIONS} verifications in flight at once in a separate process, with the server's parameters (m=19456 KiB, t=2, p=1); ` +
      'the bare Fastify row is a separate process answering a constant object. Sessions for the refresh and logout rows are minted ' +
      'through the service layer beforehand (bench/lib/mint.ts). The upsert row creates a new login per request until ' +
      `${fmt(VAULT_LOGINS)} are stored (the first tenth as warm-up); the list row reads the first page of that vault with an API key ` +
      '(on PostgreSQL after an `ANALYZE`, which autovacuum would run within a minute of such a fill). ' +
      'Better Auth runs with its defaults (scrypt, no cookie cache) ' +
      'and its rate limiter off; on PostgreSQL it has no secondary storage (Redis) configured.',
  );
  for (const n of notes) lines.push('', `- ${n}`);
  lines.push('');
  return lines.join('\n');
}

// ---------- main ----------

async function main(): Promise<void> {
  const started = new Date();
  const t0 = performance.now();
  if (!FROM_SOURCE) {
    log('building dist/');
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
      cwd: ROOT,
      stdio: 'inherit',
    });
  }
  const tmp = mkdtempSync(join(tmpdir(), 'portcullis-bench-'));
  const stamp = `${Date.now().toString(36)}${process.pid}`;
  let pgDb: string | undefined;
  const redisPrefix = `portcullis-bench-${stamp}:`;
  try {
    if (process.env.BENCH_ONLY === 'runner') {
      // Just the login runner row (BENCH_ONLY=runner), e.g. while working on the runner.
      const runnerDir = join(tmp, 'runner');
      mkdirSync(runnerDir);
      await runnerSuite(runnerDir);
      const none: Measurement = { rps: Number.NaN, p50: Number.NaN, p99: Number.NaN, errors: 0, total: 0, failures: {} };
      process.stdout.write(`\n${render({ argon2: none, fastify: none }, started, (performance.now() - t0) / 1000)}`);
      return;
    }
    log('baseline: bare argon2id');
    const argon2 = await bareArgon2();
    rows.push({ scenario: 'baseline: bare argon2id verify (same parameters)', backend: '—', m: argon2 });
    log('baseline: bare Fastify');
    const fastify = await bareFastify();
    rows.push({ scenario: 'baseline: bare Fastify route (constant object)', backend: '—', ...fastify });

    const sqliteDir = join(tmp, 'sqlite');
    mkdirSync(sqliteDir);
    await portcullisSuite('SQLite', portcullisEnv(sqliteDir, await freePort()), { BA_DATA_DIR: sqliteDir });
    if (process.env.BENCH_SKIP_RUNNER === '1') notes.push('Login runner row skipped (BENCH_SKIP_RUNNER=1).');
    else {
      const runnerDir = join(tmp, 'runner');
      mkdirSync(runnerDir);
      await runnerSuite(runnerDir);
    }
    const imports = importFile(tmp);
    await importSuite('SQLite', portcullisEnv(sqliteDir, await freePort()), imports);

    if (process.env.BENCH_SKIP_PG === '1') notes.push('PostgreSQL + Redis rows skipped (BENCH_SKIP_PG=1).');
    else if (!(await pgAvailable())) notes.push(`PostgreSQL + Redis rows skipped: ${PG_BASE} is not reachable.`);
    else {
      pgDb = `portcullis_bench_${stamp}`;
      await pgAdmin(`create database ${pgDb}`);
      const dbUrl = withDatabase(PG_BASE, pgDb);
      await pgAdmin('create schema better_auth', dbUrl);
      const pgDir = join(tmp, 'pg');
      mkdirSync(pgDir);
      const pgEnv = (port: number): Record<string, string> =>
        portcullisEnv(pgDir, port, {
          PORTCULLIS_DATABASE_URL: dbUrl,
          PORTCULLIS_REDIS_URL: REDIS_URL,
          PORTCULLIS_REDIS_PREFIX: redisPrefix,
        });
      await portcullisSuite('PostgreSQL + Redis', pgEnv(await freePort()), { BA_PG_URL: dbUrl, BA_PG_SCHEMA: 'better_auth' }, () =>
        pgAdmin('analyze vault_logins', dbUrl),
      );
      await scalingSuite(pgEnv);
      await importSuite('PostgreSQL + Redis', pgEnv(await freePort()), imports);
    }

    const seconds = (performance.now() - t0) / 1000;
    const table = render({ argon2: argon2, fastify: fastify.m }, started, seconds);
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    writeFileSync(join(ROOT, 'bench/results/latest.md'), table);
    process.stdout.write(`\n${table}`);
  } finally {
    if (pgDb) await pgAdmin(`drop database if exists ${pgDb} with (force)`).catch(() => {});
    await dropRedisPrefix(redisPrefix);
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
