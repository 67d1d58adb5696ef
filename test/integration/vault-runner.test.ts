import { readdirSync, readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SCOPES } from '../../src/auth/scopes.js';
import { type LoginSites, startLoginSites, TOTP_SEED, USER } from '../helpers/login-sites.js';
import { buildTestApp, type TestApp, unique } from '../helpers/test-app.js';

/**
 * The vault's login runner against real sign-in pages served on loopback, with real Chromium
 * (issue 19). One fixture server and one app for the file; short run timeouts.
 */
// Real browsers on a shared 2-core machine: a sign-in can take many seconds when it is busy.
vi.setConfig({ testTimeout: 120_000 });

let t: TestApp;
let sites: LoginSites;
let revealKey: string;
let keyB: string;
const METRICS_TOKEN = 'metrics-token-for-the-runner-test-0123456789';

/** Chromium processes this app's runner started (each carries the runner's marker with the instance id). */
function chromiumCount(): number {
  const marker = `--portcullis-runner=${t.app.services.runner.instanceId}`;
  let n = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(marker)) n++;
    } catch {
      // The process ended while the list was read.
    }
  }
  return n;
}

beforeAll(async () => {
  sites = await startLoginSites();
  t = await buildTestApp({
    PORTCULLIS_RUNNER_ALLOW_PRIVATE_HOSTS: 'true',
    // Generous: the machine may be saturated; the slow-site test asks for a short deadline itself.
    PORTCULLIS_RUNNER_TIMEOUT: '45',
    PORTCULLIS_RUNNER_QUEUE_LIMIT: '2',
    PORTCULLIS_SMTP_INBOUND_PORT: '0',
    PORTCULLIS_HOST: '127.0.0.1',
    PORTCULLIS_METRICS_TOKEN: METRICS_TOKEN,
  });
  revealKey = (await t.createApiKey(t.adminId, [...SCOPES])).secret;
  const orgB = await t.createOrg();
  const adminB = await t.createUser({ organizationId: orgB, roles: ['admin'] });
  keyB = (await t.createApiKey(adminB.id, [...SCOPES])).secret;
});
/**
 * After every test of the file, in whatever order they ran: no secret any of them saw is in a log
 * line, the audit log or the raw rows; screenshots are sealed; no Chromium is left.
 */
afterAll(async () => {
  try {
    if (t) await checkNothingLeaked();
  } finally {
    await t?.close();
    await sites?.close();
  }
});

async function checkNothingLeaked(): Promise<void> {
  {
    const logs = t.logs();
    const audit = JSON.stringify(await t.app.services.audit.list({ organizationId: t.defaultOrgId, limit: 1000 }));
    for (const s of secretsSeen) {
      expect(logs.includes(s), 'logs').toBe(false);
      expect(audit.includes(s), 'audit').toBe(false);
    }
    // At rest: the raw rows hold no secret and no PNG (screenshots are sealed), only ciphertexts.
    const db = t.app.services.storage.db;
    const raw = JSON.stringify([
      await db.selectFrom('vaultRuns').selectAll().execute(),
      await db.selectFrom('vaultLogins').selectAll().execute(),
    ]);
    for (const s of secretsSeen) expect(raw.includes(s), 'raw rows').toBe(false);
    // A PNG's base64 starts so (the Kaizen test's icon, a data URL, is in vault_logins on purpose).
    expect(JSON.stringify(await db.selectFrom('vaultRuns').selectAll().execute())).not.toContain('iVBORw0KGgo');
    const shots = await db.selectFrom('vaultRuns').select('screenshotSealed').where('screenshotSealed', 'is not', null).execute();
    if (screenshotTaken) expect(shots.length).toBeGreaterThan(0);
    if (ranAny) expect(audit).toMatch(/login\.authentication_(succeeded|failed)/);
    expect(chromiumCount()).toBe(0);
  }
}

const api = (method: string, path: string, json?: unknown, key = t.adminKey) =>
  t.req(method, path, { ...(json !== undefined ? { json } : {}), headers: { authorization: `Bearer ${key}` } });

async function createLogin(site: string, extra: Record<string, unknown> = {}, config: Record<string, unknown> = {}) {
  const tag = unique('t');
  const res = await api('POST', '/logins/create', {
    name: `${site} ${tag}`,
    authenticationUrl: `${sites.url}/${site}/login`,
    homeUrl: `${sites.url}/${site}/home`,
    loginConfiguration: { username: `alice-${tag}`, email: `alice-${tag}@example.test`, password: USER.password, ...config },
    ...extra,
  });
  expect(res.status, res.text).toBe(200);
  return res.body.id as string;
}

const TERMINAL = ['SUCCEEDED', 'FAILED', 'CANCELLED'];
async function waitFor(id: string, statuses = TERMINAL, timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await api('GET', `/authentications/${id}`);
    expect(res.status).toBe(200);
    if (statuses.includes(res.body.status) || Date.now() > until) return res.body;
    await new Promise((r) => setTimeout(r, 150));
  }
}

async function run(loginId: string, body?: { timeoutSeconds: number }) {
  ranAny = true;
  const started = await api('POST', `/logins/${loginId}/authenticate`, body);
  expect(started.status, started.text).toBe(200);
  expect(started.body).toEqual({ authenticationId: expect.any(String), status: 'QUEUED' });
  return waitFor(started.body.authenticationId);
}

/** Every code, password and seed a test saw: none may appear in a log line, a response or the audit log. */
const secretsSeen = new Set<string>([USER.password, TOTP_SEED]);
let screenshotTaken = false;
let ranAny = false;

describe('the runner signs in', () => {
  it.each(['plain', 'two-step', 'iframe', 'csrf'])('%s form → SUCCEEDED', async (site) => {
    const before = sites.attempts.get(site) ?? 0;
    const login = await createLogin(site);
    const result = await run(login);
    expect(result, JSON.stringify(result)).toMatchObject({
      status: 'SUCCEEDED',
      reason: null,
      usedStoredSession: false,
      hasScreenshot: false,
    });
    expect(result.steps.map((s: { step: string }) => s.step)).toEqual(expect.arrayContaining(['navigate', 'fill_password', 'signed_in']));
    expect(sites.attempts.get(site)).toBe(before + 1);
  });

  it('a TOTP page, with the code from the stored seed', async () => {
    const login = await createLogin('totp', {}, { twoFactorAuthConfiguration: { method: 'TOTP', totpSecretKey: TOTP_SEED } });
    const result = await run(login);
    expect(result.status, result.reason).toBe('SUCCEEDED');
    expect(result.steps.map((s: { step: string }) => s.step)).toEqual(
      expect.arrayContaining(['code_requested', 'totp_generated', 'submit_code']),
    );
  });

  it('an email-code page: the site mails the code through SMTP to the capture inbox, the runner long-polls it', async () => {
    const address = `${unique('inbox')}@inbox.test`;
    sites.setMailTarget({ port: t.app.services.vaultInbox!.port()!, to: address });
    const login = await createLogin('email', {}, { twoFactorAuthConfiguration: { method: 'Email', twoFactorAuthEmail: address } });
    const result = await run(login);
    expect(result.status, result.reason).toBe('SUCCEEDED');
    expect(result.steps.map((s: { step: string }) => s.step)).toEqual(expect.arrayContaining(['email_code_wait', 'email_code_received']));
  });

  it('an SMS page: the run waits in AWAITING_CODE until the code is pushed with submitTwoFactorAuthCode', async () => {
    const login = await createLogin('sms', {}, { phone: '+14155550100', twoFactorAuthConfiguration: { method: 'SMS' } });
    const started = await api('POST', `/logins/${login}/authenticate`);
    const id = started.body.authenticationId as string;
    const waiting = await waitFor(id, ['AWAITING_CODE', ...TERMINAL]);
    expect(waiting.status).toBe('AWAITING_CODE');
    const code = sites.lastSmsCode()!;
    secretsSeen.add(code);
    // Another organization cannot push a code into this run.
    expect((await api('POST', '/authentication/submitTwoFactorAuthCode', { code, authenticationId: id }, keyB)).status).toBe(404);
    const pushed = await api('POST', '/authentication/submitTwoFactorAuthCode', { code });
    expect(pushed.status, pushed.text).toBe(201);
    expect(pushed.body).toEqual({ success: true, message: expect.any(String), data: { authenticationId: id } });
    const result = await waitFor(id);
    expect(result.status, result.reason).toBe('SUCCEEDED');
    // No run waits now: a code is refused with 409.
    const late = await api('POST', '/authentication/submitTwoFactorAuthCode', { code });
    expect(late.status).toBe(409);
    expect(late.body.error).toBe('vault.no_code_awaited');
  });
});

describe('the runner fails with a reason', () => {
  it('a wrong password: FAILED with the site’s error, one attempt only, and a sealed screenshot', async () => {
    const login = await createLogin('plain', {}, { password: 'not-the-password-9' });
    secretsSeen.add('not-the-password-9');
    const before = sites.attempts.get('plain') ?? 0;
    const result = await run(login);
    expect(result.status).toBe('FAILED');
    expect(result.reason).toMatch(/refused the credentials.*Invalid username or password/);
    expect(result.hasScreenshot).toBe(true);
    screenshotTaken = true;
    expect(result.screenshotExpiresAt).toEqual(expect.any(String));
    // No retry storm: one password submission.
    await new Promise((r) => setTimeout(r, 500));
    expect(sites.attempts.get('plain')).toBe(before + 1);

    // The screenshot is a PNG for a key holding logins:reveal; not for one without it, nor for another organization.
    const shot = await fetch(`${t.url}/authentications/${result.authenticationId}/screenshot`, { headers: { 'x-api-key': revealKey } });
    expect(shot.status).toBe(200);
    expect(shot.headers.get('content-type')).toBe('image/png');
    expect(
      Buffer.from(await shot.arrayBuffer())
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');
    expect((await api('GET', `/authentications/${result.authenticationId}/screenshot`)).status).toBe(403);
    expect((await api('GET', `/authentications/${result.authenticationId}/screenshot`, undefined, keyB)).status).toBe(404);
  });

  it('a slow site: FAILED at the run timeout, and its Chromium is gone', async () => {
    const login = await createLogin('slow');
    const result = await run(login, { timeoutSeconds: 4 });
    expect(result.status).toBe('FAILED');
    expect(result.reason).toBe('The sign-in did not finish within 4 s.');
    expect(chromiumCount()).toBe(0);
  });
});

describe('stored sessions', () => {
  it('persistSession seals the storage state; the next run reuses it without signing in again', async () => {
    const login = await createLogin('plain', { persistSession: true });
    const first = await run(login);
    expect(first.status).toBe('SUCCEEDED');
    expect(first.usedStoredSession).toBe(false);
    const attempts = sites.attempts.get('plain');
    const second = await run(login);
    expect(second.status, second.reason).toBe('SUCCEEDED');
    expect(second.usedStoredSession).toBe(true);
    expect(sites.attempts.get('plain')).toBe(attempts);

    // The state itself: only for logins:reveal.
    expect((await api('GET', `/logins/${login}/session`)).status).toBe(403);
    const state = await api('GET', `/logins/${login}/session`, undefined, revealKey);
    expect(state.status).toBe(200);
    const cookie = state.body.cookies.find((c: { name: string }) => c.name === 'sid_plain');
    expect(cookie).toBeDefined();
    secretsSeen.add(cookie.value);
    expect((await api('GET', `/logins/${login}`)).body.hasSession).toBe(true);
  });
});

describe('live browser sessions', () => {
  it('a signed-in Chromium reached through connectOverCDP on Portcullis, with the caller’s key', async () => {
    const login = await createLogin('plain', { persistSession: true });
    expect((await api('POST', `/logins/${login}/browser-sessions`, {})).status).toBe(403);
    const opened = await api('POST', `/logins/${login}/browser-sessions`, { ttlSeconds: 120 }, revealKey);
    expect(opened.status, opened.text).toBe(201);
    const id = opened.body.id as string;
    expect(opened.body).toMatchObject({
      status: 'READY',
      contextAuthenticationId: id,
      cdpUrl: `${t.url.replace('http', 'ws')}/browser-sessions/${id}/cdp`,
    });
    expect(chromiumCount()).toBeGreaterThan(0);
    try {
      // Without a key, or with another organization's, the upgrade is refused.
      await expect(chromium.connectOverCDP(opened.body.cdpUrl, { timeout: 5000 })).rejects.toThrow();
      await expect(chromium.connectOverCDP(opened.body.cdpUrl, { timeout: 5000, headers: { 'x-api-key': keyB } })).rejects.toThrow();
      expect((await api('GET', `/browser-sessions/${id}`, undefined, keyB)).status).toBe(404);
      expect((await api('DELETE', `/browser-sessions/${id}`, undefined, keyB)).status).toBe(404);
      expect((await api('POST', `/logins/${login}/browser-sessions`, {}, keyB)).status).toBe(404);
      expect((await api('POST', '/authentication/completeLogin', { contextAuthenticationId: id }, keyB)).status).toBe(404);

      const browser = await chromium.connectOverCDP(opened.body.cdpUrl, { headers: { 'x-api-key': revealKey } });
      const page = browser.contexts()[0]!.pages()[0]!;
      expect(page.url()).toBe(`${sites.url}/plain/home`);
      await page.reload();
      expect(await page.locator('#welcome').textContent()).toContain('Welcome');
      expect((await api('POST', '/authentication/completeLogin', { contextAuthenticationId: id }, revealKey)).body).toEqual({
        success: true,
        message: expect.any(String),
      });
    } finally {
      expect((await api('DELETE', `/browser-sessions/${id}`, undefined, revealKey)).status).toBe(200);
    }
    expect((await api('GET', `/browser-sessions/${id}`, undefined, revealKey)).status).toBe(404);
    expect(chromiumCount()).toBe(0);
  });
});

describe('cancel, capacity, availability', () => {
  it('DELETE cancels a running sign-in and its Chromium exits', async () => {
    const login = await createLogin('slow');
    const started = await api('POST', `/logins/${login}/authenticate`);
    const id = started.body.authenticationId as string;
    await waitFor(id, ['RUNNING', ...TERMINAL]);
    await new Promise((r) => setTimeout(r, 1000));
    expect(chromiumCount()).toBeGreaterThan(0);
    const cancelled = await api('DELETE', `/authentications/${id}`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'CANCELLED', reason: 'Cancelled by the caller.' });
    expect(chromiumCount()).toBe(0);
  });

  it('beyond the concurrency and the queue limit, 429; queued runs can be cancelled', async () => {
    const login = await createLogin('slow');
    const ids: string[] = [];
    try {
      for (let i = 0; i < 4; i++) {
        const res = await api('POST', `/logins/${login}/authenticate`);
        expect(res.status, res.text).toBe(200);
        ids.push(res.body.authenticationId);
      }
      const refused = await api('POST', `/logins/${login}/authenticate`);
      expect(refused.status).toBe(429);
      expect(refused.body.error).toBe('vault.runner_busy');

      const metrics = await t.req('GET', '/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
      expect(metrics.text).toMatch(/portcullis_runner_queue_length 2/);
      expect(metrics.text).toMatch(/portcullis_runner_running 2/);
      expect(metrics.text).toMatch(/# TYPE portcullis_runner_run_duration_seconds histogram/);

      const queued = await api('DELETE', `/authentications/${ids[3]}`);
      expect(queued.body.status).toBe('CANCELLED');
    } finally {
      await Promise.all(ids.map((id) => api('DELETE', `/authentications/${id}`)));
    }
    expect(chromiumCount()).toBe(0);
  });

  it('without Chromium the runner routes answer 503 and the rest of the vault works', async () => {
    const other = await buildTestApp({ PORTCULLIS_CHROMIUM_PATH: '/nonexistent/chromium' });
    try {
      const created = await other.req('POST', '/logins/create', {
        apiKey: other.adminKey,
        json: {
          name: 'x',
          authenticationUrl: 'https://a.example/login',
          homeUrl: 'https://a.example/',
          loginConfiguration: { username: 'u', password: 'p' },
        },
      });
      expect(created.status).toBe(200);
      const res = await other.req('POST', `/logins/${created.body.id}/authenticate`, { apiKey: other.adminKey });
      expect(res.status).toBe(503);
      expect(res.body.error).toBe('vault.browser_unavailable');
      expect((await other.req('GET', `/logins/${created.body.id}`, { apiKey: other.adminKey })).status).toBe(200);
    } finally {
      await other.close();
    }
  });
});

describe('who may run what', () => {
  it('another organization’s ids answer 404 on every runner route', async () => {
    const login = await createLogin('plain');
    const started = await api('POST', `/logins/${login}/authenticate`);
    const id = started.body.authenticationId as string;
    await waitFor(id);
    for (const [method, path, body] of [
      ['POST', `/logins/${login}/authenticate`, undefined],
      ['GET', `/authentications/${id}`, undefined],
      ['DELETE', `/authentications/${id}`, undefined],
      ['GET', `/authentications/${id}/screenshot`, undefined],
      ['POST', '/logins/twoFactorAuth/getCode', { loginId: login }],
      ['POST', '/authentication/submitTwoFactorAuthCode', { code: '123456', authenticationId: id }],
    ] as const) {
      const res = await api(method, path, body, keyB);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.error).toBe('resource.not_found');
    }
  });

  it('a member, and a key without logins:write, are refused', async () => {
    const login = await createLogin('plain');
    const member = await t.createUser({ roles: ['member'] });
    const memberKey = (await t.createApiKey(member.id)).secret;
    const readOnly = (await t.createApiKey(t.adminId, ['logins:read'])).secret;
    for (const key of [memberKey, readOnly]) {
      expect((await api('POST', `/logins/${login}/authenticate`, undefined, key)).status).toBe(403);
      expect((await api('POST', '/authentication/submitTwoFactorAuthCode', { code: '123456' }, key)).status).toBe(403);
    }
    expect((await api('POST', '/logins/twoFactorAuth/getCode', { loginId: login }, memberKey)).status).toBe(403);
  });
});

describe('Kaizen’s login API', () => {
  it('POST /logins/create takes the new fields; secrets are write-only; a second create with the same identity is 409', async () => {
    const body = {
      name: 'HR portal',
      authenticationUrl: 'https://hr.example/login',
      homeUrl: 'https://hr.example/',
      iconUrl: 'data:image/png;base64,iVBORw0KGgo=',
      description: 'HR portal for employee records',
      loginConfiguration: {
        username: unique('hr'),
        password: 'hr-password-1',
        apiKey: 'hr-api-key-secret',
        bearerToken: 'hr-bearer-secret',
        additionalCredentials: [{ key: 'tenant', value: 'tenant-secret-value' }],
      },
      persistSession: true,
      isManualAuthentication: false,
      supportConcurrentLogins: true,
      supportsAgentConcurrency: false,
      useLLMLoginDetection: true,
      loginDetectionPrompt: 'The dashboard shows the employee list',
      loginInstructionsPrompt: 'Use the SSO button',
    };
    for (const s of ['hr-password-1', 'hr-api-key-secret', 'hr-bearer-secret', 'tenant-secret-value']) secretsSeen.add(s);
    const res = await api('POST', '/logins/create', body);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({
      iconUrl: body.iconUrl,
      description: body.description,
      isManualAuthentication: false,
      supportConcurrentLogins: true,
      supportsAgentConcurrency: false,
      useLLMLoginDetection: true,
      loginDetectionPrompt: body.loginDetectionPrompt,
      loginInstructionsPrompt: body.loginInstructionsPrompt,
      loginConfiguration: { hasApiKey: true, hasBearerToken: true, additionalCredentials: [{ id: expect.any(String), key: 'tenant' }] },
    });
    const again = await api('POST', '/logins/create', body);
    expect(again.status).toBe(409);
    expect(again.body.details).toEqual(['body.loginConfiguration.username']);
  });

  it('POST /logins/twoFactorAuth/getCode answers {code, secondsRemaining}', async () => {
    const login = await createLogin('totp', {}, { twoFactorAuthConfiguration: { method: 'TOTP', totpSecretKey: TOTP_SEED } });
    const res = await api('POST', '/logins/twoFactorAuth/getCode', { loginId: login });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ code: expect.stringMatching(/^\d{6}$/), secondsRemaining: expect.any(Number) });
    secretsSeen.add(res.body.code);
  });

  it('a manual-authentication login is not signed in by the runner (409)', async () => {
    const login = await createLogin('plain', { isManualAuthentication: true });
    const res = await api('POST', `/logins/${login}/authenticate`);
    expect(res.status).toBe(409);
    expect(res.body.error).toBe('vault.manual_authentication');
  });
});
