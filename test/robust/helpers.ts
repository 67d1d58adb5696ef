/** Shared pieces of the robustness suite: budgets, child-process servers, a cuttable TCP proxy, raw HTTP. */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { dirname, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { type App, buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { createMasterKeyring, Secret } from '../../src/crypto/index.js';
import { createStorage } from '../../src/storage/index.js';
import { ADMIN, unique } from '../helpers/test-app.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** `ROBUST_BUDGET=short` (CI) bounds every test to seconds; the default runs longer. */
export const SHORT = process.env.ROBUST_BUDGET === 'short';
export const budget = <T>(short: T, full: T): T => (SHORT ? short : full);

export const CHEAP_ARGON2 = { PORTCULLIS_ARGON2_MEMORY_KIB: '64', PORTCULLIS_ARGON2_TIME_COST: '1' } as const;

// ---------- a server in its own process ----------

export interface ChildServer {
  url: string;
  pid: number;
  child: ChildProcess;
  rssMb(): number;
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function startChildServer(env: Record<string, string>): Promise<ChildServer> {
  const port = await freePort();
  // Why: these servers run on their own SQLite file unless told otherwise; the PostgreSQL/Redis URLs
  // of the suite's environment must not leak into them (they would write to the shared public schema).
  const { PORTCULLIS_DATABASE_URL: _db, PORTCULLIS_REDIS_URL: _redis, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'serve'], {
    cwd: ROOT,
    env: {
      ...inherited,
      NODE_ENV: 'test',
      PORTCULLIS_PORT: String(port),
      PORTCULLIS_HOST: '127.0.0.1',
      PORTCULLIS_ADMIN_USERNAME: ADMIN.userName,
      PORTCULLIS_ADMIN_PASSWORD: ADMIN.password,
      PORTCULLIS_LOG_LEVEL: 'warn',
      PORTCULLIS_LOGIN_RATE_PER_IP: '0',
      ...CHEAP_ARGON2,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (c: Buffer): void => {
    out = (out + c.toString('utf8')).slice(-32_768);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}):\n${out}`);
    if (Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`server not healthy:\n${out}`);
    }
    try {
      if ((await fetch(`${url}/healthz`)).status === 200) break;
    } catch {
      // not yet
    }
    await sleep(100);
  }
  const pid = child.pid as number;
  return {
    url,
    pid,
    child,
    rssMb: () => {
      try {
        const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
        return Number(m?.[1]) / 1024;
      } catch {
        return Number.NaN;
      }
    },
    output: () => out,
    kill: (signal = 'SIGTERM') =>
      new Promise((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', () => done());
        child.kill(signal);
      }),
  };
}

// ---------- an in-process app on a given database ----------

export interface RobustApp {
  app: App;
  url: string;
  logs(): string;
  close(): Promise<void>;
}

/**
 * A listening app whose PostgreSQL and Redis URLs are given (a proxy, say) and whose schema and
 * Redis prefix can be shared with another instance.
 */
export async function buildAppOn(options: {
  pgUrl: string;
  pgSchema: string;
  redisUrl: string;
  redisPrefix: string;
  masterKey: Buffer;
  env?: Record<string, string>;
}): Promise<RobustApp> {
  const config = loadConfig({
    NODE_ENV: 'test',
    PORTCULLIS_LOG_LEVEL: 'info',
    ...CHEAP_ARGON2,
    PORTCULLIS_ADMIN_USERNAME: ADMIN.userName,
    PORTCULLIS_ADMIN_PASSWORD: ADMIN.password,
    PORTCULLIS_ADMIN_EMAIL: ADMIN.email,
    PORTCULLIS_DATA_DIR: '/tmp/portcullis-test-unused',
    PORTCULLIS_REDIS_URL: options.redisUrl,
    PORTCULLIS_REDIS_PREFIX: options.redisPrefix,
    ...options.env,
  });
  const chunks: string[] = [];
  const logStream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  const storage = createStorage({ url: options.pgUrl, dataDir: config.dataDir, pgSchema: options.pgSchema, pgPoolSize: 4 });
  const app = await buildApp(config, {
    storage,
    keyring: createMasterKeyring(new Secret(options.masterKey)),
    logStream,
    announce: () => {},
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { app, url: `http://127.0.0.1:${port}`, logs: () => chunks.join(''), close: () => app.close() };
}

export async function createPgSchema(url: string): Promise<string> {
  const schema = unique('r_');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`create schema ${schema}`);
  await client.end();
  return schema;
}

export async function dropPgSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`drop schema if exists ${schema} cascade`);
  await client.end();
}

export const randomKey = (): Buffer => randomBytes(32);

// ---------- a TCP proxy that can be cut ----------

export interface CuttableProxy {
  port: number;
  /** Refuses new connections and resets the open ones. */
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startProxy(targetHost: string, targetPort: number): Promise<CuttableProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const listen = (): Promise<void> =>
    new Promise((done, fail) => {
      const srv = createServer((client) => {
        const upstream = connect(targetPort, targetHost);
        sockets.add(client);
        sockets.add(upstream);
        const drop = (): void => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
        client.pipe(upstream);
        upstream.pipe(client);
      });
      srv.once('error', fail);
      srv.listen(port, '127.0.0.1', () => {
        const address = srv.address();
        port = typeof address === 'object' && address ? address.port : port;
        server = srv;
        done();
      });
    });
  const stop = (): Promise<void> =>
    new Promise((done) => {
      for (const s of sockets) s.resetAndDestroy();
      sockets.clear();
      if (!server) return done();
      server.close(() => done());
      server = undefined;
    });
  await listen();
  return {
    get port() {
      return port;
    },
    cut: stop,
    restore: listen,
    close: stop,
  };
}

// ---------- raw HTTP, for bytes fetch will not send ----------

export interface RawResponse {
  status: number;
  headers: string;
  body: string;
}

/** Sends `head` + `body` as they are on a fresh socket; answers the parsed status and body. */
export function rawRequest(url: string, head: string, body: Buffer = Buffer.alloc(0), timeoutMs = 10_000): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((done, fail) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      fail(new Error(`raw request timed out: ${head.split('\r\n')[0]}`));
    }, timeoutMs);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      const [headPart = '', ...rest] = text.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(headPart)?.[1] ?? 0);
      let bodyText = rest.join('\r\n\r\n');
      if (/transfer-encoding: chunked/i.test(headPart)) bodyText = dechunk(bodyText);
      done({ status, headers: headPart, body: bodyText });
    });
    socket.write(head);
    socket.end(body);
  });
}

function dechunk(text: string): string {
  let out = '';
  let rest = text;
  for (;;) {
    const nl = rest.indexOf('\r\n');
    if (nl < 0) break;
    const size = Number.parseInt(rest.slice(0, nl), 16);
    if (!size) break;
    out += rest.slice(nl + 2, nl + 2 + size);
    rest = rest.slice(nl + 2 + size + 2);
  }
  return out;
}

// ---------- small things ----------

/**
 * Waits for `/healthz` to answer 200: right after a start on a busy machine, @fastify/under-pressure
 * may still be shedding load (503) from the event-loop delay of the boot itself.
 */
export async function waitHealthy(url: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      if ((await fetch(`${url}/healthz`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${url} not healthy after ${timeoutMs} ms`);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => done(port));
    });
  });
}

/** The DESIGN.md error body. */
export function isErrorBody(body: unknown, status: number): boolean {
  const b = body as Record<string, unknown> | undefined;
  return (
    !!b &&
    b.success === false &&
    typeof b.code === 'number' &&
    typeof b.message === 'string' &&
    typeof b.error === 'string' &&
    /^[a-z_]+(\.[a-z_]+)*$/.test(b.error) &&
    b.status === status &&
    (b.details === undefined || (Array.isArray(b.details) && b.details.every((d) => typeof d === 'string')))
  );
}

/** RFC 7644's error body, which the SCIM routes answer instead of ours (status is a string there). */
export function isScimErrorBody(body: unknown, status: number): boolean {
  const b = body as Record<string, unknown> | undefined;
  return (
    !!b &&
    Array.isArray(b.schemas) &&
    b.schemas.includes('urn:ietf:params:scim:api:messages:2.0:Error') &&
    b.status === String(status) &&
    typeof b.detail === 'string'
  );
}

export async function json(url: string, method: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let parsed: any;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed, text };
}
