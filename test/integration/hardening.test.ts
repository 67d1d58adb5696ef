import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { startSmtpSink } from '../helpers/smtp.js';
import { ADMIN, buildTestApp, PG_URL, type TestApp, type TestResponse } from '../helpers/test-app.js';

/**
 * Regressions of issue 14's low and medium findings, over real HTTP, on SQLite and on
 * PostgreSQL + Redis (`npm run test:pg`). Each test failed on the main branch before its fix.
 */

const expectError = (res: TestResponse, status: number, error: string) => {
  expect(res.status, res.text).toBe(status);
  expect(res.body).toMatchObject({ success: false, status, error });
};

/** @see issue 14 finding 15 — IPv4-compatible and SIIT forms of loopback passed the SSRF guard. */
describe('identity provider URLs in IPv4-embedding IPv6 forms', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(async () => t?.close());

  it('refuses loopback written as ::7f00:1, ::127.0.0.1 or ::ffff:0:7f00:1, as an issuer and as OAuth2 endpoints', async () => {
    for (const host of ['[::7f00:1]', '[::127.0.0.1]', '[::ffff:0:7f00:1]', '[::ffff:0:127.0.0.1]', '[::a9fe:a9fe]', '[64:ff9b::a00:1]']) {
      const oidc = await t.req('POST', '/v1/idps', {
        apiKey: t.adminKey,
        json: { title: 'x', type: 'OIDC', config: { oidcConfig: { issuer: `https://${host}/`, clientId: 'c', clientSecret: 's' } } },
      });
      expectError(oidc, 400, 'request.invalid');
      expect(oidc.body.details, host).toEqual(['body.config.oidcConfig.issuer']);
      const oauth2 = await t.req('POST', '/v1/idps', {
        apiKey: t.adminKey,
        json: {
          title: 'x',
          type: 'OAUTH2',
          config: {
            oauth2Config: {
              authUrl: 'https://idp.example.com/authorize',
              tokenUrl: `https://${host}:8443/token`,
              userInfoUrl: 'https://idp.example.com/userinfo',
              clientId: 'c',
              clientSecret: 's',
              fieldMapping: { identifier: 'sub' },
            },
          },
        },
      });
      expectError(oauth2, 400, 'request.invalid');
      expect(oauth2.body.details, host).toEqual(['body.config.oauth2Config.tokenUrl']);
    }
    // A public address in an embedding form that reaches it (IPv4-mapped, NAT64) stays usable.
    const ok = await t.req('POST', '/v1/idps', {
      apiKey: t.adminKey,
      json: {
        title: 'x',
        type: 'OIDC',
        config: { oidcConfig: { issuer: 'https://[64:ff9b::808:808]/', clientId: 'c', clientSecret: 's' } },
      },
    });
    expect(ok.status, ok.text).toBe(201);
  });
});

/** @see issue 14 finding 16 — the SQLite database and its WAL were created 0644 in a 0755 data directory. */
describe('file modes of the data directory', () => {
  const root = mkdtempSync(join(tmpdir(), 'portcullis-modes-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8);

  /** The real server on SQLite in `dataDir` (whatever the test run's database), with a generated master key. */
  async function serve(dataDir: string): Promise<{ app: App; url: string }> {
    const config = loadConfig({
      NODE_ENV: 'test',
      PORTCULLIS_DATA_DIR: dataDir,
      PORTCULLIS_LOG_LEVEL: 'silent',
      PORTCULLIS_ARGON2_MEMORY_KIB: '64',
      PORTCULLIS_ARGON2_TIME_COST: '1',
      PORTCULLIS_MAX_EVENT_LOOP_DELAY_MS: '0',
      PORTCULLIS_ADMIN_USERNAME: ADMIN.userName,
      PORTCULLIS_ADMIN_PASSWORD: ADMIN.password,
    });
    const app = await buildApp(config, { announce: () => {} });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    return { app, url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}` };
  }

  /** A sign-in over HTTP: it writes a session, so the WAL and shared-memory files exist. */
  async function signIn(url: string): Promise<void> {
    const res = await fetch(`${url}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: ADMIN.userName, password: ADMIN.password }),
    });
    expect(res.status).toBe(200);
  }

  it('creates the data directory 0700 and the database, WAL, shared-memory and master key files 0600', async () => {
    const dataDir = join(root, 'fresh');
    const { app, url } = await serve(dataDir);
    try {
      await signIn(url);
      const db = join(dataDir, 'portcullis.db');
      expect(existsSync(`${db}-wal`) && existsSync(`${db}-shm`)).toBe(true);
      expect(mode(dataDir)).toBe('700');
      for (const file of [db, `${db}-wal`, `${db}-shm`, join(dataDir, 'master.key')]) expect(mode(file), file).toBe('600');
    } finally {
      await app.close();
    }
  });

  it('tightens a data directory and database files left group- and world-readable by an earlier version', async () => {
    const dataDir = join(root, 'loose');
    const first = await serve(dataDir);
    await signIn(first.url);
    await first.app.close();
    const db = join(dataDir, 'portcullis.db');
    chmodSync(dataDir, 0o755);
    chmodSync(db, 0o644);
    chmodSync(join(dataDir, 'master.key'), 0o644);
    // A WAL left behind by a crash, as the earlier version created it.
    writeFileSync(`${db}-wal`, '', { mode: 0o644 });
    chmodSync(`${db}-wal`, 0o644);
    const second = await serve(dataDir);
    try {
      await signIn(second.url);
      expect(mode(dataDir)).toBe('700');
      for (const file of [db, `${db}-wal`, `${db}-shm`, join(dataDir, 'master.key')]) expect(mode(file), file).toBe('600');
    } finally {
      await second.app.close();
    }
  });

  it('creates a missing data directory 0700 even when only the master key goes there (PostgreSQL deployments)', async () => {
    const parent = join(root, 'nested');
    mkdirSync(parent, { mode: 0o755 });
    const { loadMasterKeyring } = await import('../../src/config/index.js');
    const dataDir = join(parent, 'data');
    loadMasterKeyring(loadConfig({ PORTCULLIS_DATA_DIR: dataDir }), () => {});
    expect(mode(dataDir)).toBe('700');
    expect(mode(join(dataDir, 'master.key'))).toBe('600');
  });
});

/** @see issue 14 finding 12 — `Sec-Fetch-Site: same-site` passed the cookie CSRF check whatever the Origin. */
describe('cross-site check of cookie requests', () => {
  const SIBLING = 'https://app.portcullis.test';
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ PORTCULLIS_PUBLIC_URL: 'https://id.portcullis.test', PORTCULLIS_ALLOWED_ORIGINS: SIBLING });
  });
  afterAll(async () => t?.close());

  async function cookieOf(): Promise<string> {
    const user = await t.createUser({});
    const res = await t.req('POST', '/v1/auth/login', { json: { username: user.userName, password: user.password, web: true } });
    expect(res.status, res.text).toBe(200);
    const value = res.cookies.map((c) => /^access-token=([^;]*)/.exec(c)?.[1]).find(Boolean);
    expect(value).toBeTruthy();
    return `access-token=${value}`;
  }
  const write = (cookie: string, headers: Record<string, string>) =>
    t.req('POST', '/v1/auth/user', { json: { user: { title: 'changed' } }, headers: { cookie, ...headers } });
  const webLogin = (headers: Record<string, string>) =>
    t.req('POST', '/v1/auth/login', { json: { username: ADMIN.userName, password: ADMIN.password, web: true }, headers });

  it('refuses a same-site request whose Origin is not an allowed origin (a sibling subdomain), or that has none', async () => {
    const cookie = await cookieOf();
    for (const headers of <Record<string, string>[]>[
      { 'sec-fetch-site': 'same-site', origin: 'https://evil.portcullis.test' },
      { 'sec-fetch-site': 'same-site', origin: 'null' },
      { 'sec-fetch-site': 'same-site' },
    ]) {
      expectError(await write(cookie, headers), 403, 'request.cross_site');
      expectError(await webLogin(headers), 403, 'request.cross_site');
    }
  });

  it('accepts same-site from an allowed origin, same-origin, user-initiated, and scripts that send neither header', async () => {
    const cookie = await cookieOf();
    for (const headers of <Record<string, string>[]>[
      { 'sec-fetch-site': 'same-site', origin: SIBLING },
      { 'sec-fetch-site': 'same-origin', origin: 'https://id.portcullis.test' },
      { 'sec-fetch-site': 'same-origin' },
      { 'sec-fetch-site': 'none' },
      { origin: SIBLING },
      {},
    ]) {
      const res = await write(cookie, headers);
      expect(res.status, `${JSON.stringify(headers)} ${res.text}`).toBe(200);
      expect((await webLogin(headers)).status, JSON.stringify(headers)).toBe(200);
    }
  });

  it('still refuses cross-site, even from an allowed origin, and a foreign Origin without Sec-Fetch-Site', async () => {
    const cookie = await cookieOf();
    for (const headers of <Record<string, string>[]>[
      { 'sec-fetch-site': 'cross-site', origin: SIBLING },
      { 'sec-fetch-site': 'cross-site' },
      { origin: 'https://evil.example' },
      { 'sec-fetch-site': 'bogus', origin: 'https://evil.example' },
    ]) {
      expectError(await write(cookie, headers), 403, 'request.cross_site');
    }
  });
});

/** @see issue 14 finding 11 — the user name and the email of one account each had their own free attempts. */
describe('login back-off per account', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ PORTCULLIS_LOGIN_FREE_FAILURES: '3', PORTCULLIS_LOGIN_RATE_PER_IP: '0' });
  });
  afterAll(async () => t?.close());
  const login = (json: Record<string, unknown>) => t.req('POST', '/v1/auth/login', { json });

  it('counts failures by user name and by email against the one account they name', async () => {
    const user = await t.createUser({});
    const bystander = await t.createUser({});
    // The three free failures, spent on the user name…
    for (let i = 0; i < 3; i++) expectError(await login({ username: user.userName, password: 'wrong' }), 401, 'auth.invalid_credentials');
    // …so the first failure by email is the account's fourth, and starts its back-off (1 s).
    expectError(await login({ email: user.email, password: 'wrong' }), 401, 'auth.invalid_credentials');
    const started = await t.app.services.storage.db
      .selectFrom('auditEvents')
      .select('data')
      .where('action', '=', 'session.throttle_started')
      .where('targetId', '=', user.id)
      .execute();
    expect(started.map((r) => JSON.parse(r.data).identifier)).toEqual([user.email]);
    // While it runs, the right password is refused under either identifier.
    for (const identifier of [{ email: user.email.toUpperCase() }, { username: user.userName }]) {
      const res = await login({ ...identifier, password: user.password });
      expectError(res, 429, 'rate.limited');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    // Another account is not affected.
    expect((await login({ username: bystander.userName, password: bystander.password })).status).toBe(200);
  });

  it('still counts per typed identifier, known or not, and a sign-in clears every identifier of the account', async () => {
    const ghost = `ghost-${Date.now()}`;
    for (let i = 0; i < 4; i++) await login({ username: ghost, password: 'wrong' });
    expectError(await login({ username: ghost, password: 'wrong' }), 429, 'rate.limited');

    const user = await t.createUser({});
    for (let i = 0; i < 2; i++) expectError(await login({ username: user.userName, password: 'wrong' }), 401, 'auth.invalid_credentials');
    expect((await login({ email: user.email, password: user.password })).status).toBe(200);
    for (let i = 0; i < 2; i++) expectError(await login({ username: user.userName, password: 'wrong' }), 401, 'auth.invalid_credentials');
    expect((await login({ username: user.userName, password: user.password })).status).toBe(200);
  });
});

/** @see issue 14 finding 17 — `trustProxy` was hard-coded off: behind a proxy every client shared one per-address ceiling. */
describe('per-address login ceiling behind a reverse proxy', () => {
  const attempt = (t: TestApp, forwardedFor?: string) =>
    t.req('POST', '/v1/auth/login', {
      json: { username: `nobody-${Math.random().toString(36).slice(2)}`, password: 'wrong' },
      ...(forwardedFor ? { headers: { 'x-forwarded-for': forwardedFor } } : {}),
    });

  describe('with PORTCULLIS_TRUST_PROXY naming the proxy', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await buildTestApp({ PORTCULLIS_LOGIN_RATE_PER_IP: '3', PORTCULLIS_TRUST_PROXY: 'loopback, 10.0.0.0/8' });
    });
    afterAll(async () => t?.close());

    it('counts each client address that X-Forwarded-For names', async () => {
      for (let i = 0; i < 3; i++) expectError(await attempt(t, '203.0.113.7'), 401, 'auth.invalid_credentials');
      expectError(await attempt(t, '203.0.113.7'), 429, 'rate.limited');
      // Another client behind the same proxy still signs in (here: fails its password).
      expectError(await attempt(t, '198.51.100.9'), 401, 'auth.invalid_credentials');
      // The proxy appends the address it saw: a client cannot escape its ceiling by writing its own first entry…
      expectError(await attempt(t, '192.0.2.1, 203.0.113.7'), 429, 'rate.limited');
      // …while trusted hops (another proxy inside 10/8) are skipped to reach the client.
      expectError(await attempt(t, '203.0.113.7, 10.1.2.3'), 429, 'rate.limited');
      // The proxy's own requests without the header count under the proxy's address.
      expectError(await attempt(t), 401, 'auth.invalid_credentials');
      const rows = await t.app.services.storage.db
        .selectFrom('auditEvents')
        .select('ip')
        .where('action', '=', 'session.login_failed')
        .execute();
      expect(new Set(rows.map((r) => r.ip))).toEqual(new Set(['203.0.113.7', '198.51.100.9', '127.0.0.1']));
    });
  });

  describe('without it', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await buildTestApp({ PORTCULLIS_LOGIN_RATE_PER_IP: '3' });
    });
    afterAll(async () => t?.close());

    it('ignores X-Forwarded-For: a client cannot pick the address it is counted under', async () => {
      for (const forwarded of ['203.0.113.7', '203.0.113.8', '203.0.113.9']) {
        expectError(await attempt(t, forwarded), 401, 'auth.invalid_credentials');
      }
      expectError(await attempt(t, '198.51.100.9'), 429, 'rate.limited');
      const rows = await t.app.services.storage.db
        .selectFrom('auditEvents')
        .select('ip')
        .where('action', '=', 'session.login_failed')
        .execute();
      expect(new Set(rows.map((r) => r.ip))).toEqual(new Set(['127.0.0.1']));
    });
  });
});

/** @see issue 14 finding 18 — `/metrics` (routes, status counts, process figures) was public. */
describe('metrics', () => {
  const TOKEN = 'metrics-token-0123456789abcdefghijklmnopqrstuv';

  describe('with PORTCULLIS_METRICS_TOKEN', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await buildTestApp({ PORTCULLIS_METRICS_TOKEN: TOKEN });
    });
    afterAll(async () => t?.close());

    it('serves Prometheus text only to the bearer of the token', async () => {
      const missing = await t.req('GET', '/metrics');
      expectError(missing, 401, 'auth.unauthenticated');
      expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(missing.text).not.toContain('portcullis_http_requests_total');
      for (const authorization of [
        `Bearer ${TOKEN}x`,
        `Bearer ${TOKEN.slice(0, -1)}`,
        `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`,
        TOKEN,
      ]) {
        const wrong = await t.req('GET', '/metrics', { headers: { authorization } });
        expectError(wrong, 401, 'auth.invalid_credentials');
        expect(wrong.text).not.toContain(TOKEN);
      }
      // An API key or a user's token is no metrics credential either.
      expectError(await t.req('GET', '/metrics', { apiKey: t.adminKey }), 401, 'auth.unauthenticated');
      const ok = await t.req('GET', '/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(ok.status, ok.text).toBe(200);
      expect(ok.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(ok.text).toContain('portcullis_http_requests_total');
      expect(ok.text).toContain('process_resident_memory_bytes');
      // Scrapers written in lower case, with extra spaces, work too.
      expect((await t.req('GET', '/metrics', { headers: { authorization: `bearer   ${TOKEN}` } })).status).toBe(200);
      expect(t.logs()).not.toContain(TOKEN);
    });
  });

  describe('without it', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await buildTestApp();
    });
    afterAll(async () => t?.close());

    it('does not serve metrics at all', async () => {
      expectError(await t.req('GET', '/metrics'), 404, 'route.not_found');
      expectError(await t.req('GET', '/metrics', { apiKey: t.adminKey }), 404, 'route.not_found');
    });
  });
});

/**
 * @see issue 14 finding 9 — `POST /v1/auth/password/reset/request` answered sooner for unknown accounts
 * (the known path looked up, audited and stored a token before answering), and mailed unverified addresses.
 */
describe('password reset request', () => {
  let t: TestApp;
  let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
  beforeAll(async () => {
    smtp = await startSmtpSink();
    t = await buildTestApp({ PORTCULLIS_SMTP_URL: smtp.url, PORTCULLIS_TRUST_PROXY: 'loopback' });
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  let client = 0;
  /** Each request from its own client address, so the per-address ceiling stays out of the way. */
  const request = (json: Record<string, unknown>) =>
    t.req('POST', '/v1/auth/password/reset/request', { json, headers: { 'x-forwarded-for': `198.51.100.${++client}` } });
  const IGNORED_HEADERS = new Set(['date', 'x-request-id', 'keep-alive', 'connection']);
  const shape = (res: TestResponse) => ({
    status: res.status,
    body: res.text,
    headers: [...res.headers.entries()].filter(([name]) => !IGNORED_HEADERS.has(name)).sort(),
  });
  const mailsTo = (email: string) => smtp.messages.filter((m) => m.to.includes(email.toLowerCase()));
  const settle = () => new Promise((r) => setTimeout(r, 400));

  it('answers identically for a verified, an unverified, an inactive and an unknown account, and mails only the verified one', async () => {
    const verified = await t.createUser({ emailVerified: true });
    const unverified = await t.createUser({});
    const suspended = await t.createUser({ emailVerified: true });
    await t.app.services.storage.db.updateTable('users').set({ state: 'DELETED' }).where('id', '=', suspended.id).execute();
    const ghost = `ghost-${client}-${Date.now()}@example.test`;

    const answers = [
      await request({ email: verified.email }),
      await request({ username: verified.userName }),
      await request({ email: unverified.email }),
      await request({ username: unverified.userName }),
      await request({ email: suspended.email }),
      await request({ email: ghost }),
      await request({ username: `ghost${Date.now()}` }),
    ];
    const first = shape(answers[0] as TestResponse);
    expect(first.status).toBe(200);
    for (const res of answers) expect(shape(res)).toEqual(first);

    const mail = await smtp.waitFor((m) => m.to.includes(verified.email) && m.subject === 'Reset your password');
    expect(mail.text).toMatch(/Reset token: \S+/);
    await settle();
    expect(mailsTo(verified.email)).toHaveLength(2);
    // Why: an unverified address may be someone else's (an email change not yet confirmed).
    expect(mailsTo(unverified.email)).toHaveLength(0);
    expect(mailsTo(suspended.email)).toHaveLength(0);
    expect(mailsTo(ghost)).toHaveLength(0);
    const reasons = await t.app.services.storage.db
      .selectFrom('auditEvents')
      .select(['targetId', 'data'])
      .where('action', '=', 'user.password_reset_requested')
      .where('targetId', '=', unverified.id)
      .execute();
    expect(reasons.map((r) => JSON.parse(r.data).reason)).toEqual(['email_not_verified', 'email_not_verified']);
  });

  it.runIf(PG_URL)(
    'answers before the account is looked up, audited or given a token (PostgreSQL: audit and token tables locked)',
    async () => {
      const verified = await t.createUser({ emailVerified: true });
      const lock = new pg.Client({ connectionString: PG_URL });
      await lock.connect();
      try {
        // Another transaction holds the tables that the known and the unknown path write.
        await lock.query('begin');
        await lock.query(`lock table ${t.pgSchema}.audit_events, ${t.pgSchema}.email_tokens in exclusive mode`);
        const pending = Promise.all([request({ email: verified.email }), request({ email: `ghost-${Date.now()}@example.test` })]);
        const answered = await Promise.race([pending.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 3000))]);
        expect(answered, 'the answer waited for database writes').toBe(true);
        const [known, unknown] = await pending;
        expect(shape(known as TestResponse)).toEqual(shape(unknown as TestResponse));
        expect(mailsTo(verified.email)).toHaveLength(0);
      } finally {
        await lock.query('rollback');
        await lock.end();
      }
      // The work itself runs once the tables are free again.
      await smtp.waitFor((m) => m.to.includes(verified.email) && m.subject === 'Reset your password');
    },
  );
});
