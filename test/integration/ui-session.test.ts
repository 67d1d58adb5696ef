import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Browser, launchBrowser, openContext, submitSignIn } from '../helpers/browser.js';
import { buildTestApp, type TestApp } from '../helpers/test-app.js';

// A browser drives each test: several steps of a second or more, slower on a loaded machine.
vi.setConfig({ testTimeout: 120_000 });

const TTL = 4;
let t: TestApp;
let browser: Browser;
beforeAll(async () => {
  // A 4-second access token (below the configurable minimum of 30 s, so set as an override).
  [t, browser] = await Promise.all([
    buildTestApp({ PORTCULLIS_LOGIN_RATE_PER_IP: '1000' }, { accessTokenTtlSeconds: TTL }),
    launchBrowser(),
  ]);
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the console stays signed in across access-token expiry', () => {
  it('refreshes before expiry with the page open, and after expiry when the page comes back', async () => {
    const user = await t.createUser({ roles: ['member'] });
    // A: the page stays open, its timer refreshes before the token expires.
    const a = await openContext(browser, t.url);
    const refreshes: number[] = [];
    a.page.on('request', (r) => {
      if (r.url().endsWith('/v1/auth/refresh')) refreshes.push(Date.now());
    });
    await a.page.goto('/');
    await submitSignIn(a.page, user.userName, user.password);
    await a.page.waitForURL('**/account');
    // B: another browser signs in and closes its page: nothing refreshes while it is away.
    const b = await openContext(browser, t.url);
    await b.page.goto('/');
    await submitSignIn(b.page, user.userName, user.password);
    await b.page.waitForURL('**/account');
    await b.page.close();

    await sleep((TTL * 2 + 1) * 1000);
    expect(refreshes.length).toBeGreaterThanOrEqual(2);
    await a.page.getByRole('link', { name: 'Security' }).click();
    await a.page.getByRole('heading', { name: 'Security' }).waitFor();
    await a.page.getByRole('link', { name: 'API keys' }).click();
    await a.page.getByRole('heading', { name: 'My API keys' }).waitFor();
    expect(await a.page.getByRole('alert').count()).toBe(0);

    // B's access cookie expired with its token; the refresh cookie brings the session back.
    const page = await b.context.newPage();
    await page.goto('/account/api-keys');
    await page.getByRole('heading', { name: 'My API keys' }).waitFor();
    expect(page.url()).toContain('/account/api-keys');
    expect(a.problems).toEqual([]);
    await a.context.close();
    await b.context.close();
  });

  it('the sessions page lists where the user is signed in and ends another session', async () => {
    const user = await t.createUser({ roles: ['member'] });
    const a = await openContext(browser, t.url);
    const b = await openContext(browser, t.url);
    for (const { page } of [a, b]) {
      await page.goto('/');
      await submitSignIn(page, user.userName, user.password);
      await page.waitForURL('**/account');
    }
    await a.page.getByRole('link', { name: 'Sessions' }).click();
    await a.page.getByText('this browser').waitFor();
    expect(await a.page.getByRole('button', { name: /^End the session from/ }).count()).toBe(1);
    await a.page.getByRole('button', { name: /^End the session from/ }).click();
    await expect.poll(() => a.page.getByRole('button', { name: /^End the session from/ }).count()).toBe(0);
    // B is signed out: its next call fails, its refresh fails, it lands on sign-in.
    await b.page.getByRole('link', { name: 'Security' }).click();
    await b.page.getByRole('heading', { name: /Sign in/ }).waitFor();
    // A is still in.
    await a.page.getByRole('link', { name: 'Profile' }).click();
    await a.page.getByRole('heading', { name: 'Profile' }).waitFor();
    await a.context.close();
    await b.context.close();
  });

  it('session routes: an API key is refused, another user’s session is not found', async () => {
    const user = await t.createUser({ roles: ['owner'] });
    const other = await t.createUser({ roles: ['member'] });
    const key = await t.createApiKey(user.id);
    expect((await t.req('GET', '/v1/auth/sessions', { apiKey: key.secret })).status).toBe(403);
    const mine = (await t.req('POST', '/v1/auth/login', { json: { username: user.userName, password: user.password } })).body.token;
    const theirs = await t.req('POST', '/v1/auth/login', { json: { username: other.userName, password: other.password } });
    const theirSessions = await t.req('GET', '/v1/auth/sessions', { token: theirs.body.token });
    expect(theirSessions.status).toBe(200);
    const theirId = theirSessions.body.sessions[0].id;
    expect((await t.req('DELETE', `/v1/auth/sessions/${theirId}`, { token: mine })).status).toBe(404);
    expect((await t.req('DELETE', `/v1/auth/sessions/${theirId}`, { apiKey: key.secret })).status).toBe(403);
    expect((await t.req('GET', '/v1/auth/sessions', { token: theirs.body.token })).body.sessions).toHaveLength(1);
  });

  it('a replayed refresh token ends the session, and the console signs out in every tab', async () => {
    const user = await t.createUser({ roles: ['member'] });
    const { context, page } = await openContext(browser, t.url);
    await page.goto('/');
    await submitSignIn(page, user.userName, user.password);
    await page.waitForURL('**/account');
    const second = await context.newPage();
    await second.goto('/account/security');
    await second.getByRole('heading', { name: 'Security' }).waitFor();
    // An attacker replays a refresh token the browser already rotated.
    const stolen = (await context.cookies()).find((c) => c.name === 'refresh-token')!.value;
    await page.reload();
    await page.getByRole('heading', { name: 'Profile' }).waitFor();
    await expect.poll(async () => (await context.cookies()).find((c) => c.name === 'refresh-token')?.value).not.toBe(stolen);
    const replay = await t.req('POST', '/v1/auth/refresh', { json: { refreshToken: stolen } });
    expect(replay.status).toBe(401);
    // The session is revoked: the next call fails, refresh fails, and both tabs land on sign-in.
    await page.getByRole('link', { name: 'Security' }).click();
    await page.getByRole('heading', { name: /Sign in/ }).waitFor();
    await second.getByRole('heading', { name: /Sign in/ }).waitFor();
    await context.close();
  });
});
