import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Secret as OtpSecret, TOTP } from 'otpauth';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCOPES } from '../../src/auth/scopes.js';
import { columnName } from '../../src/crypto/index.js';
import { SEALED_REGISTRY } from '../../src/sealed-columns.js';
import { startTestOp, type TestOp } from '../helpers/oidc-op.js';
import { PG_URL, REDIS_URL, unique } from '../helpers/test-app.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

/**
 * @see issue 14, finding 10 — `portcullis keys rotate-master` end to end through the CLI binary:
 * data sealed under the old master key (MFA TOTP secrets, a pending enrolment, vault secrets, an
 * IdP client secret, a browser sign-in in progress, the signing key), the rotation, then a server
 * with only the new key, on SQLite and on PostgreSQL + Redis. Before the fix, the MFA code step
 * answered 500 after the restart.
 *
 * The CLI runs as its own process, as `serve` does: `node --import tsx src/cli/index.ts` (the
 * source the package's `bin` is built from, so the suite needs no build), or the built binary
 * when PORTCULLIS_TEST_CLI names it (`PORTCULLIS_TEST_CLI=dist/cli/index.js` after `npm run build`).
 */

const CLI = process.env.PORTCULLIS_TEST_CLI ? [process.env.PORTCULLIS_TEST_CLI] : ['--import', 'tsx', 'src/cli/index.ts'];
const PUBLIC_URL = 'http://portcullis.test';
const ADMIN = {
  userName: 'rotation-admin',
  email: 'rotation-admin@example.test',
  password: `admin ${randomBytes(9).toString('base64url')}`,
};
const STEP_MS = 30_000;
/** What a sealed value looks like at rest (`seal`'s output): the content scan finds sealed columns by it. */
const SEALED_VALUE = /^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22,}$/;

const dir = mkdtempSync(join(tmpdir(), 'portcullis-rotate-'));
const oldKey = randomBytes(32).toString('base64');
const newKey = randomBytes(32).toString('base64');
/** Every secret the test handles; none may appear in any output of the CLI or the servers. */
const secrets: string[] = [oldKey, newKey, ADMIN.password];
/** Everything the child processes wrote. */
const outputs: string[] = [];

let pgDatabase: string | undefined;
let databaseUrl = '';
let op: TestOp;
let receiver: WebhookReceiver;

beforeAll(async () => {
  op = await startTestOp(`${PUBLIC_URL}/oauth/callback`);
  receiver = await startWebhookReceiver();
  secrets.push(op.clientSecret);
  if (PG_URL) {
    // The CLI and `serve` take no schema option: they get a database of their own.
    pgDatabase = unique('rotate_').toLowerCase();
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`create database ${pgDatabase}`);
    await client.end();
    const url = new URL(PG_URL);
    url.pathname = `/${pgDatabase}`;
    databaseUrl = url.toString();
  }
});
afterAll(async () => {
  await op?.close();
  await receiver?.close();
  if (pgDatabase) {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`drop database if exists ${pgDatabase} with (force)`);
    await client.end();
  }
  rmSync(dir, { recursive: true, force: true });
});

/** The environment of every child: nothing inherited from PORTCULLIS_*, and the master keys given. */
function env(keys: { current: string; previous?: string }): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PORTCULLIS_')));
  return {
    ...inherited,
    NODE_ENV: 'test',
    PORTCULLIS_HOST: '127.0.0.1',
    PORTCULLIS_PORT: '0',
    PORTCULLIS_DATA_DIR: dir,
    PORTCULLIS_DATABASE_URL: databaseUrl,
    PORTCULLIS_REDIS_URL: PG_URL && REDIS_URL ? REDIS_URL : '',
    PORTCULLIS_REDIS_PREFIX: `${unique('rot')}:`,
    PORTCULLIS_PUBLIC_URL: PUBLIC_URL,
    PORTCULLIS_IDP_ALLOW_PRIVATE_HOSTS: 'true',
    PORTCULLIS_WEBHOOKS_ALLOW_PRIVATE_HOSTS: 'true',
    PORTCULLIS_WEBHOOKS_POLL_MS: '100',
    PORTCULLIS_ADMIN_USERNAME: ADMIN.userName,
    PORTCULLIS_ADMIN_EMAIL: ADMIN.email,
    PORTCULLIS_ADMIN_PASSWORD: ADMIN.password,
    PORTCULLIS_ARGON2_MEMORY_KIB: '64',
    PORTCULLIS_ARGON2_TIME_COST: '1',
    PORTCULLIS_LOGIN_RATE_PER_IP: '1000',
    PORTCULLIS_MAX_EVENT_LOOP_DELAY_MS: '0',
    PORTCULLIS_LOG_LEVEL: 'info',
    PORTCULLIS_MASTER_KEY: keys.current,
    ...(keys.previous ? { PORTCULLIS_PREVIOUS_MASTER_KEY: keys.previous } : {}),
  };
}

/** Runs `portcullis …`; answers its exit code and output (a failing exit does not throw). */
function cli(keys: { current: string; previous?: string }, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...CLI, ...args], { env: env(keys), timeout: 120_000 }, (err, stdout, stderr) => {
      outputs.push(stdout, stderr);
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

interface Server {
  url: string;
  stop(): Promise<void>;
  req(method: string, path: string, options?: { json?: unknown; token?: string; apiKey?: string; cookie?: string }): Promise<Res>;
}
interface Res {
  status: number;
  text: string;
  body: any;
  headers: Headers;
  cookies: string[];
}

/** `portcullis serve` as a child process, on a free loopback port read from its "listening" log line. */
async function serve(keys: { current: string; previous?: string }): Promise<Server> {
  const child: ChildProcess = spawn(process.execPath, [...CLI, 'serve'], { env: env(keys), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${out}`)), 90_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] as string);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}:\n${out}`));
    });
  });
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      outputs.push(out);
    },
    async req(method, path, options = {}) {
      const headers: Record<string, string> = {};
      if (options.json !== undefined) headers['content-type'] = 'application/json';
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      if (options.apiKey) headers['x-api-key'] = options.apiKey;
      if (options.cookie) headers.cookie = options.cookie;
      const res = await fetch(url + path, {
        method,
        headers,
        ...(options.json !== undefined ? { body: JSON.stringify(options.json) } : {}),
        redirect: 'manual',
      });
      const text = await res.text();
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = undefined;
      }
      return { status: res.status, text, body, headers: res.headers, cookies: res.headers.getSetCookie() };
    },
  };
}

/** Codes of an authenticator, each of a later time step than the last (the server accepts a step once). */
function authenticator(secret: string) {
  let last = Number.NEGATIVE_INFINITY;
  return async (): Promise<string> => {
    for (;;) {
      const now = Date.now();
      const current = Math.floor(now / STEP_MS);
      // The drift window takes the previous step too, while the current one has a few seconds left.
      const step = Math.max(last + 1, now % STEP_MS > 25_000 ? current : current - 1);
      if (step <= current + 1) {
        last = step;
        return TOTP.generate({ secret: OtpSecret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30, timestamp: step * STEP_MS });
      }
      await new Promise((r) => setTimeout(r, (step - 1) * STEP_MS - now + 100));
    }
  };
}

/** `table.column` of every column of the database that holds a value shaped like a sealed one. */
async function columnsHoldingSealedValues(): Promise<string[]> {
  const found = new Set<string>();
  const scan = (table: string, rows: Record<string, unknown>[]) => {
    for (const row of rows)
      for (const [column, value] of Object.entries(row))
        if (typeof value === 'string' && SEALED_VALUE.test(value)) found.add(`${table}.${column}`);
  };
  if (databaseUrl) {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    const tables = await client.query<{ table_name: string }>(
      "select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'",
    );
    for (const { table_name } of tables.rows) scan(table_name, (await client.query(`select * from "${table_name}"`)).rows);
    await client.end();
  } else {
    const db = new SqliteDatabase(join(dir, 'portcullis.db'), { readonly: true });
    const tables = db.prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite_%'").all() as {
      name: string;
    }[];
    for (const { name } of tables) scan(name, db.prepare(`select * from "${name}"`).all() as Record<string, unknown>[]);
    db.close();
  }
  return [...found].sort();
}

describe(`portcullis keys rotate-master, end to end (${PG_URL ? 'PostgreSQL + Redis' : 'SQLite'})`, () => {
  it('prints what it re-seals, from the registry, and the procedure', async () => {
    const help = await cli({ current: newKey }, 'keys', 'rotate-master', '--help');
    expect(help.code).toBe(0);
    for (const c of SEALED_REGISTRY.columns) expect(help.stdout).toContain(columnName(c));
    expect(help.stdout).toContain("users' MFA TOTP secrets");
    expect(help.stdout).toMatch(
      /PORTCULLIS_PREVIOUS_MASTER_KEY[\s\S]*Run it once more with only the new key[\s\S]*Restart every instance with only the new key/,
    );
  });

  it('keeps MFA sign-in, vault TOTP and reveal, and IdP sign-in working with only the new key', async () => {
    // 1. A server on the old key, and data sealed under it.
    const before = await serve({ current: oldKey });
    const adminLogin = await before.req('POST', '/v1/auth/login', { json: { username: ADMIN.userName, password: ADMIN.password } });
    expect(adminLogin.status, adminLogin.text).toBe(200);
    const key = await before.req('POST', '/v1/api-keys', { token: adminLogin.body.token, json: { name: 'rotation', scopes: [...SCOPES] } });
    expect(key.status, key.text).toBe(201);
    const apiKey: string = key.body.clientSecret;
    secrets.push(apiKey);

    const user = async () => {
      const u = { userName: unique('mfa-'), password: `pw ${randomBytes(12).toString('base64url')}` };
      secrets.push(u.password);
      const email = `${u.userName}@example.test`;
      const created = await before.req('POST', '/v1/users', { apiKey, json: { ...u, email } });
      expect(created.status, created.text).toBe(201);
      const signIn = await before.req('POST', '/v1/auth/login', { json: { email, password: u.password } });
      expect(signIn.status, signIn.text).toBe(200);
      const started = await before.req('POST', '/v1/auth/user', { token: signIn.body.token, json: { regenerateTempMfaSecret: true } });
      expect(started.status, started.text).toBe(200);
      const secret: string = started.body.user.tempOtpSecret;
      secrets.push(secret);
      return { ...u, email, token: signIn.body.token as string, next: authenticator(secret) };
    };
    // One user enrolled (active TOTP secret), one with an enrolment still pending.
    const enrolled = await user();
    const confirmed = await before.req('POST', '/v1/auth/user', {
      token: enrolled.token,
      json: { otpCode: await enrolled.next(), user: { mfaEnabled: true } },
    });
    expect(confirmed.status, confirmed.text).toBe(200);
    expect(confirmed.body.user.mfaEnabled).toBe(true);
    const pending = await user();

    const seed = new OtpSecret({ size: 20 }).base32;
    const vaultSecrets = {
      password: `vault ${randomBytes(9).toString('base64url')}`,
      proxy: `proxy ${randomBytes(9).toString('base64url')}`,
    };
    secrets.push(seed, vaultSecrets.password, vaultSecrets.proxy);
    const login = await before.req('POST', '/logins/upsert', {
      apiKey,
      json: {
        name: 'Rotated site',
        authenticationUrl: 'https://rotated.example/login',
        homeUrl: 'https://rotated.example/',
        loginConfiguration: {
          username: 'robot',
          password: vaultSecrets.password,
          twoFactorAuthConfiguration: { method: 'TOTP', totpSecretKey: seed },
        },
        proxy: { server: 'http://proxy.example:3128', username: 'p', password: vaultSecrets.proxy },
      },
    });
    expect(login.status, login.text).toBe(200);

    const idp = unique('rot-idp-').toLowerCase();
    const created = await before.req('POST', `/v1/idps?identityProviderId=${idp}`, {
      apiKey,
      json: {
        title: 'Rotation OP',
        type: 'OIDC',
        config: {
          oidcConfig: { issuer: op.issuer, clientId: op.clientId, clientSecret: op.clientSecret, scopes: ['openid', 'email', 'profile'] },
        },
      },
    });
    expect(created.status, created.text).toBe(201);
    // A browser sign-in started before the rotation (its PKCE verifier is sealed) and finished after it.
    const started = await before.req('GET', `/v1/idps/${idp}/authorize?returnTo=${encodeURIComponent(`${PUBLIC_URL}/app`)}`);
    expect(started.status, started.text).toBe(302);
    const flowCookie = (started.cookies.find((c) => c.startsWith('idp-flow=')) ?? '').split(';')[0] as string;

    // A webhook endpoint whose secret was rotated: the new secret and the old one (in its grace period) are both sealed.
    const hook = await before.req('POST', '/v1/webhooks', { apiKey, json: { url: receiver.url, eventTypes: ['user.created'] } });
    expect(hook.status, hook.text).toBe(201);
    const hookRotated = await before.req('POST', `/v1/webhooks/${hook.body.id}/rotate-secret`, { apiKey, json: { graceSeconds: 3600 } });
    expect(hookRotated.status, hookRotated.text).toBe(200);
    secrets.push(hook.body.secret, hookRotated.body.secret);
    // The receiver still knows only the first secret (the grace period covers it).
    receiver.secrets.push(hook.body.secret);
    await before.stop();

    // 2. The rotation, through the CLI: new key current, old key previous.
    const rotated = await cli({ current: newKey, previous: oldKey }, 'keys', 'rotate-master');
    expect(rotated.code, rotated.stderr).toBe(0);
    const report = JSON.parse(rotated.stdout);
    expect(report).toMatchObject({ ok: true, unreadable: 0, contended: 0, alreadyCurrent: 0 });
    expect(Object.keys(report.columns).sort()).toEqual(SEALED_REGISTRY.masterSealed.map(columnName).sort());
    for (const column of [
      'user_mfa.secret_sealed',
      'user_mfa.pending_secret_sealed',
      'identity_providers.client_secret_sealed',
      'auth_flows.code_verifier_sealed',
      'webhook_endpoints.secret_sealed',
      'webhook_endpoints.previous_secret_sealed',
    ]) {
      expect(report.columns[column], column).toMatchObject({ resealed: 1 });
    }
    expect(report.columns['vault_data_keys.wrapped_key'].resealed).toBeGreaterThanOrEqual(1);
    expect(report.columns['signing_keys.private_jwk_sealed'].resealed).toBeGreaterThanOrEqual(1);

    // Safe to run again: nothing is left under the old key, so nothing changes.
    const again = await cli({ current: newKey, previous: oldKey }, 'keys', 'rotate-master');
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: true, resealed: 0, alreadyCurrent: report.resealed });
    // The check before dropping the old key: the new key alone opens everything.
    const check = await cli({ current: newKey }, 'keys', 'rotate-master');
    expect(check.code, check.stderr).toBe(0);
    expect(JSON.parse(check.stdout)).toMatchObject({ ok: true, resealed: 0, unreadable: 0 });
    // Wrong keys: every value is reported by row key, nothing is written, and the run fails.
    const wrong = await cli({ current: randomBytes(32).toString('base64'), previous: oldKey }, 'keys', 'rotate-master');
    expect(wrong.code).toBe(1);
    expect(JSON.parse(wrong.stdout)).toMatchObject({ ok: false, resealed: 0, unreadable: report.resealed });
    expect(wrong.stderr).toMatch(/open under neither master key/);

    // Every column holding sealed data in the real database is in the registry.
    const sealedColumns = await columnsHoldingSealedValues();
    const registered = new Set(SEALED_REGISTRY.columns.map(columnName));
    expect(sealedColumns.filter((c) => !registered.has(c))).toEqual([]);
    expect(sealedColumns).toEqual(
      expect.arrayContaining([
        ...Object.keys(report.columns),
        'vault_logins.password_sealed',
        'vault_logins.totp_secret_sealed',
        'vault_logins.proxy_password_sealed',
      ]),
    );

    // 3. A server with only the new key.
    const after = await serve({ current: newKey });
    try {
      // MFA sign-in: password, then the TOTP code (this step answered 500 before the fix).
      const first = await after.req('POST', '/v1/auth/login', { json: { email: enrolled.email, password: enrolled.password } });
      expect(first.status, first.text).toBe(200);
      expect(first.body.mfaTempToken).toBeTypeOf('string');
      const second = await after.req('POST', '/v1/auth/login', {
        json: { mfaTempToken: first.body.mfaTempToken, otpCode: await enrolled.next() },
      });
      expect(second.status, second.text).toBe(200);
      const me = await after.req('GET', '/v1/auth/user', { token: second.body.token });
      expect(me.status, me.text).toBe(200);
      expect(me.body.user).toMatchObject({ userName: enrolled.userName, mfaEnabled: true });

      // The enrolment pending across the rotation completes.
      const pendingSignIn = await after.req('POST', '/v1/auth/login', { json: { email: pending.email, password: pending.password } });
      expect(pendingSignIn.status, pendingSignIn.text).toBe(200);
      const finished = await after.req('POST', '/v1/auth/user', {
        token: pendingSignIn.body.token,
        json: { otpCode: await pending.next(), user: { mfaEnabled: true } },
      });
      expect(finished.status, finished.text).toBe(200);
      expect(finished.body.user.mfaEnabled).toBe(true);

      // Vault: TOTP code from the stored seed, and the secrets revealed.
      const totp = await after.req('POST', `/logins/${login.body.id}/totp`, { apiKey });
      expect(totp.status, totp.text).toBe(200);
      expect(totp.body.code).toBe(TOTP.generate({ secret: OtpSecret.fromBase32(seed), timestamp: Date.parse(totp.body.expiresAt) - 1000 }));
      const revealed = await after.req('POST', `/logins/${login.body.id}/reveal`, { apiKey });
      expect(revealed.status, revealed.text).toBe(200);
      expect(revealed.body).toEqual({ password: vaultSecrets.password, proxyPassword: vaultSecrets.proxy });

      // IdP sign-in: the code exchange authenticates with the client secret.
      const sub = unique('sub-');
      op.accounts.set(sub, { email: `${sub}@example.test`, email_verified: true, name: 'Rotated Person' });
      const idpLogin = await after.req('POST', '/v1/auth/login', {
        json: { idpName: `idps/${idp}`, idpContext: { oidcContext: { code: await op.code(sub) } } },
      });
      expect(idpLogin.status, idpLogin.text).toBe(200);
      expect(idpLogin.body.token).toBeTypeOf('string');

      // The browser sign-in started under the old key finishes: PKCE verifier and client secret.
      const browserSub = unique('sub-');
      op.accounts.set(browserSub, { email: `${browserSub}@example.test`, email_verified: true });
      const back = await op.authorize(started.headers.get('location') as string, browserSub);
      const callback = await after.req('GET', `${back.pathname}${back.search}`, { cookie: flowCookie });
      expect(callback.status, callback.text).toBe(302);
      expect(callback.headers.get('location')).toBe(`${PUBLIC_URL}/app`);
      expect(callback.cookies.some((c) => c.startsWith('access-token='))).toBe(true);

      // Webhooks: signed under both re-sealed secrets; a receiver knowing either one verifies.
      const hooked = await after.req('POST', '/v1/users', {
        apiKey,
        json: { userName: unique('hooked-'), password: `pw ${randomBytes(9).toString('base64url')}` },
      });
      expect(hooked.status, hooked.text).toBe(201);
      const forHooked = () => receiver.received.find((x) => x.status === 204 && x.payload?.data.target?.id === hooked.body.id);
      await receiver.until(() => forHooked() !== undefined, 30_000);
      expect(forHooked()?.payload).toMatchObject({ type: 'user.created' });
      expect(forHooked()?.headers['webhook-signature']?.split(' ')).toHaveLength(2);
    } finally {
      await after.stop();
    }

    // No secret in any output of the CLI or the servers (reports carry counts and row keys only).
    const all = outputs.join('\n');
    for (const secret of secrets) expect(all.includes(secret), 'a secret appeared in an output').toBe(false);
  }, 300_000);
});
