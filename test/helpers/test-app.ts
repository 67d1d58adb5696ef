import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import pg from 'pg';
import { type App, buildApp } from '../../src/app.js';
import type { Principal, RequestContext } from '../../src/auth/principal.js';
import { SCOPES, type Scope } from '../../src/auth/scopes.js';
import { type Config, loadConfig } from '../../src/config/index.js';
import { createMasterKeyring, type MasterKeyring, Secret } from '../../src/crypto/index.js';
import { createStorage } from '../../src/storage/index.js';
import { type ResponseValidator, responseValidatorFor } from './openapi-check.js';

export const PG_URL = process.env.PORTCULLIS_DATABASE_URL;
export const REDIS_URL = process.env.PORTCULLIS_REDIS_URL;
export const ADMIN = { userName: 'root-admin', password: 'correct horse battery staple', email: 'root@example.test' };

export interface TestResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
  cookies: string[];
}

export interface RequestOptions {
  json?: unknown;
  body?: string | Buffer;
  headers?: Record<string, string>;
  token?: string;
  apiKey?: string;
  /**
   * Why this answer is not checked against the OpenAPI document (every other answer is, and a
   * mismatch fails the test). Only for requests that deliberately break HTTP itself.
   */
  uncheckedBecause?: string;
}

export interface TestApp {
  app: App;
  config: Config;
  url: string;
  /** Everything the server logged so far. */
  logs(): string;
  req<T = any>(method: string, path: string, options?: RequestOptions): Promise<TestResponse<T>>;
  /** The default organization's id. */
  defaultOrgId: string;
  /** A request context acting as a superadmin (or given roles) in an organization. */
  context(organizationId?: string, roles?: string[]): RequestContext;
  createOrg(name?: string): Promise<string>;
  createUser(input: {
    userName?: string;
    email?: string;
    password?: string;
    roles?: string[];
    organizationId?: string;
    /** Mark the address verified (password reset mails only verified addresses). */
    emailVerified?: boolean;
  }): Promise<{ id: string; userName: string; email: string; password: string }>;
  /** An API key secret for a user (by id), with optional scopes. */
  createApiKey(userId: string, scopes?: Scope[]): Promise<{ id: number; key: string; secret: string }>;
  adminId: string;
  adminKey: string;
  /** What a second instance needs to share this one's database, Redis prefix and master key. */
  shared: { pgSchema: string | undefined; keyring: MasterKeyring };
  /** Checks answers against the served OpenAPI document (`req` uses it on every answer). */
  contract: ResponseValidator;
  /** The PostgreSQL schema of this app (PostgreSQL runs only). */
  pgSchema: string | undefined;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Use a SQLite file instead of `:memory:` (tests that read the raw database file). Ignored on PostgreSQL. */
  sqliteFile?: string;
  /** The master key (default: a random one). */
  masterKey?: Buffer;
  /** Another instance whose PostgreSQL schema, Redis prefix and master key this one shares. */
  peer?: TestApp;
  /** Listen on this port (default: any free one); with `PORTCULLIS_PUBLIC_URL` naming it, browsers reach the public URL. */
  port?: number;
}

let counter = 0;
export const unique = (prefix: string): string =>
  `${prefix}${Date.now().toString(36)}${(counter++).toString(36)}${randomBytes(2).toString('hex')}`;

/**
 * A listening app on loopback: in-memory SQLite, or a fresh PostgreSQL schema and Redis prefix
 * when PORTCULLIS_DATABASE_URL / PORTCULLIS_REDIS_URL are set. argon2 runs with cheap parameters.
 */
export async function buildTestApp(
  env: Record<string, string> = {},
  overrides: Partial<Config> = {},
  options: TestAppOptions = {},
): Promise<TestApp> {
  const peer = options.peer;
  let pgSchema: string | undefined = peer?.shared.pgSchema;
  if (PG_URL && !peer) {
    pgSchema = unique('t_');
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`create schema ${pgSchema}`);
    await client.end();
  }
  const config = loadConfig(
    {
      NODE_ENV: 'test',
      PORTCULLIS_LOG_LEVEL: 'info',
      PORTCULLIS_ARGON2_MEMORY_KIB: '64',
      PORTCULLIS_ARGON2_TIME_COST: '1',
      // Parallel test files on a shared 2-core machine stall the loop; test/integration/load-shedding.test.ts turns it on.
      PORTCULLIS_MAX_EVENT_LOOP_DELAY_MS: '0',
      PORTCULLIS_ADMIN_USERNAME: ADMIN.userName,
      PORTCULLIS_ADMIN_PASSWORD: ADMIN.password,
      PORTCULLIS_ADMIN_EMAIL: ADMIN.email,
      PORTCULLIS_DATA_DIR: '/tmp/portcullis-test-unused',
      ...(REDIS_URL ? { PORTCULLIS_REDIS_URL: REDIS_URL, PORTCULLIS_REDIS_PREFIX: peer?.config.redisPrefix ?? `${unique('pt')}:` } : {}),
      ...env,
    },
    overrides,
  );
  const chunks: string[] = [];
  const logStream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  if (peer && !PG_URL) throw new Error('a peer instance needs PostgreSQL');
  const keyring = peer?.shared.keyring ?? createMasterKeyring(new Secret(options.masterKey ?? randomBytes(32)));
  const storage = createStorage({
    url: PG_URL ?? (options.sqliteFile ? `sqlite:${options.sqliteFile}` : 'sqlite::memory:'),
    dataDir: config.dataDir,
    ...(pgSchema ? { pgSchema, pgPoolSize: 4 } : {}),
  });
  const app = await buildApp(config, {
    storage,
    keyring,
    logStream,
    announce: () => {},
  });
  await app.listen({ port: options.port ?? 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `http://127.0.0.1:${port}`;
  const s = app.services;
  const adminUser = (await s.users.lookup.findByUserName(ADMIN.userName))!;
  const defaultOrgId = adminUser.organizationId;

  const context = (organizationId = defaultOrgId, roles = ['superadmin']): RequestContext => {
    const principal: Principal = {
      kind: 'user',
      userId: adminUser.id,
      organizationId,
      roles,
      scopes: new Set(SCOPES),
      isSuperadmin: roles.includes('superadmin'),
      via: 'bearer',
    };
    return { principal, ip: '127.0.0.1', requestId: 'test', userAgent: 'test', now: new Date() };
  };

  const createApiKey = async (userId: string, scopes?: Scope[]) => {
    const owner = (await s.users.lookup.findById(userId))!;
    const base = context(owner.organizationId, owner.roles);
    const ctx = { ...base, principal: { ...base.principal!, userId: owner.id } };
    const { apiKey, clientSecret } = await s.apiKeys.create(ctx, { name: unique('key'), scopes });
    return { id: apiKey.id, key: apiKey.publicKey, secret: clientSecret };
  };

  const adminKey = (await createApiKey(adminUser.id)).secret;
  const contract = responseValidatorFor(app.swagger() as Record<string, unknown>);

  return {
    app,
    config,
    url,
    logs: () => chunks.join(''),
    defaultOrgId,
    adminId: adminUser.id,
    adminKey,
    shared: { pgSchema, keyring },
    pgSchema,
    contract,
    context,
    async req(method, path, options = {}) {
      const headers: Record<string, string> = { ...(options.headers ?? {}) };
      let body: string | Buffer | undefined = options.body;
      if (options.json !== undefined) {
        body = JSON.stringify(options.json);
        headers['content-type'] ??= 'application/json';
      }
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      if (options.apiKey) headers['x-api-key'] = options.apiKey;
      const res = await fetch(url + path, { method, headers, ...(body !== undefined ? { body } : {}), redirect: 'manual' });
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      if (!options.uncheckedBecause) {
        const mismatch = contract.check(method, path, { status: res.status, headers: res.headers, text });
        if (mismatch) throw new Error(mismatch);
      }
      return { status: res.status, headers: res.headers, body: parsed as any, text, cookies: res.headers.getSetCookie() };
    },
    async createOrg(name = unique('org')) {
      return (await s.organizations.create(context(), { name })).id;
    },
    async createUser(input) {
      const userName = input.userName ?? unique('user');
      const email = input.email ?? `${userName}@example.test`;
      const password = input.password ?? `pw-${randomBytes(9).toString('base64url')}`;
      const { user } = await s.users.create(context(input.organizationId ?? defaultOrgId), {
        userName,
        email,
        password,
        roles: input.roles ?? ['member'],
        organizationId: input.organizationId ?? defaultOrgId,
        ...(input.emailVerified ? { emailVerified: true } : {}),
      });
      return { id: user.id, userName, email, password };
    },
    createApiKey,
    async close() {
      await app.close();
      if (pgSchema && PG_URL && !peer) {
        const client = new pg.Client({ connectionString: PG_URL });
        await client.connect();
        await client.query(`drop schema if exists ${pgSchema} cascade`);
        await client.end();
      }
    },
  };
}
