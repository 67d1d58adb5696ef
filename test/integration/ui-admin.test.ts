import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Browser, launchBrowser, openContext, submitSignIn } from '../helpers/browser.js';
import { buildTestApp, type TestApp, unique } from '../helpers/test-app.js';

// A browser drives each test: several steps of a second or more, slower on a loaded machine.
vi.setConfig({ testTimeout: 120_000 });

let t: TestApp;
let browser: Browser;
beforeAll(async () => {
  [t, browser] = await Promise.all([buildTestApp({ PORTCULLIS_LOGIN_RATE_PER_IP: '1000' }), launchBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

describe('the admin console in a real browser', () => {
  it('an owner creates a user, sets their password, creates an API key, and sees a vault login without its secrets', async () => {
    const owner = await t.createUser({ roles: ['owner'] });
    const secrets = {
      password: `pw-${randomBytes(12).toString('hex')}`,
      proxy: `px-${randomBytes(12).toString('hex')}`,
      totp: 'JBSWY3DPEHPK3PXP',
    };
    const loginName = unique('Acme ');
    const upsert = await t.req('POST', '/logins/upsert', {
      apiKey: t.adminKey,
      json: {
        name: loginName,
        authenticationUrl: 'https://app.acme.test/login',
        homeUrl: 'https://app.acme.test/home',
        loginConfiguration: {
          username: 'robot',
          password: secrets.password,
          twoFactorAuthConfiguration: { method: 'TOTP', totpSecretKey: secrets.totp },
        },
        proxy: { username: 'p', password: secrets.proxy, server: 'http://proxy.test:3128' },
      },
    });
    expect(upsert.status, upsert.text).toBe(200);

    const { context, page, problems } = await openContext(browser, t.url);
    const bodies: string[] = [];
    page.on('response', async (r) => {
      if (new URL(r.url()).pathname.startsWith('/logins')) bodies.push(await r.text().catch(() => ''));
    });
    await page.goto('/');
    await submitSignIn(page, owner.userName, owner.password);
    await page.waitForURL('**/account');

    // Create a user.
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    await page.getByRole('link', { name: 'New user' }).click();
    const userName = unique('ada');
    await page.getByLabel('User name').fill(userName);
    await page.getByLabel('Email').fill(`${userName}@example.test`);
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.getByRole('heading', { name: userName }).waitFor();

    // Set their password (no change required), then they can sign in with it.
    const password = 'set by the owner passphrase 9';
    await page.getByLabel('New password').fill(password);
    await page.getByLabel('Must change it at next sign-in').uncheck();
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByText('Password set.').waitFor();
    const signIn = await t.req('POST', '/v1/auth/login', { json: { username: userName, password } });
    expect(signIn.status, signIn.text).toBe(200);
    expect(signIn.body.requireResetPassword).toBe(false);

    // The new user shows in the list and the search.
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByLabel('User name or email').fill(userName);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: userName }).waitFor();

    // Create an API key: the secret is shown once and works.
    await page.getByRole('link', { name: 'API keys' }).nth(1).click();
    await page.getByRole('heading', { name: 'API keys', exact: true }).waitFor();
    await page.getByLabel('Key name').fill('ci');
    await page.getByRole('checkbox', { name: /Read users/ }).check();
    await page.getByRole('button', { name: 'Create API key' }).click();
    const secret = (await page.getByTestId('secret-value').textContent())!.trim();
    const withKey = await t.req('GET', `/v1/users?userName=${userName}`, { apiKey: secret });
    expect(withKey.status).toBe(200);
    expect(withKey.body.users[0].userName).toBe(userName);
    await page.getByRole('cell', { name: 'ci', exact: true }).waitFor();

    // The vault: flags, no secrets, a TOTP code on demand.
    await page.getByRole('link', { name: 'Vault logins' }).click();
    await page.getByRole('cell', { name: loginName, exact: true }).waitFor();
    await page.getByRole('button', { name: `Show TOTP code for ${loginName}` }).click();
    const code = (await page.getByTestId('totp-code').textContent())!.trim();
    expect(code).toMatch(/^\d{6}$/);
    const html = await page.content();
    for (const s of Object.values(secrets)) {
      expect(html).not.toContain(s);
      for (const body of bodies) expect(body).not.toContain(s);
    }

    // The audit log shows what happened, newest first.
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByLabel('Action').fill('user.password_set');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByRole('cell', { name: 'user.password_set' }).first().waitFor();
    expect(problems).toEqual([]);
    await context.close();
  });

  it('a member sees no admin screens, and the API refuses what the console hides', async () => {
    const member = await t.createUser({ roles: ['member'] });
    const { context, page } = await openContext(browser, t.url);
    await page.goto('/');
    await submitSignIn(page, member.userName, member.password);
    await page.waitForURL('**/account');
    expect(await page.getByRole('heading', { name: 'Administration' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Users' }).count()).toBe(0);
    await page.goto('/admin/users');
    await page.getByText('This page is for administrators.').waitFor();
    expect(await page.getByRole('table').count()).toBe(0);
    // The same session, calling the API directly from the page (cookies, same origin): refused.
    const statuses = await page.evaluate(`(async () => {
      const call = (method, path, body) => fetch(path, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined }).then((r) => r.status);
      return {
        listUsers: await call('GET', '/v1/users'),
        createUser: await call('POST', '/v1/users', { userName: 'sneaky' }),
        audit: await call('GET', '/v1/audit-events'),
        logins: await call('GET', '/logins'),
        policy: await call('PATCH', '/v1/organizations/${t.defaultOrgId}', { policy: { requireMfa: false } }),
        setPassword: await call('POST', '/api/v1/users/addUserCredentials/${t.adminId}', { userName: 'x', password: 'y' }),
      };
    })()`);
    expect(statuses).toEqual({ listUsers: 403, createUser: 403, audit: 403, logins: 403, policy: 403, setPassword: 403 });
    await context.close();
  });
});

describe('branding of the hosted pages', () => {
  it('an owner sets the display name, logo and colour; the sign-in page at /?org= shows them', async () => {
    const orgId = await t.createOrg();
    const owner = await t.createUser({ roles: ['owner'], organizationId: orgId });
    const { context, page, problems } = await openContext(browser, t.url);
    await page.goto('/');
    await submitSignIn(page, owner.userName, owner.password);
    await page.waitForURL('**/account');
    await page.getByRole('link', { name: 'Organization' }).click();
    await page.getByLabel('Display name').fill('Acme Corp');
    await page.getByLabel('Logo URL (https)').fill('http://insecure.example/logo.png');
    await page.getByLabel('Primary colour').fill('#0b7a55');
    await page.getByRole('button', { name: 'Save branding' }).click();
    await page.getByText('The request is invalid.').waitFor();
    await page.getByLabel('Logo URL (https)').fill('https://cdn.example/logo.png');
    await page.getByRole('button', { name: 'Save branding' }).click();
    await page.getByText('Branding saved.').waitFor();
    await context.close();

    const anonymous = await openContext(browser, t.url);
    await anonymous.page.goto(`/?org=${orgId}`);
    await anonymous.page.getByRole('heading', { name: 'Sign in to Acme Corp' }).waitFor();
    expect(await anonymous.page.locator('img.logo').getAttribute('src')).toBe('https://cdn.example/logo.png');
    expect(await anonymous.page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--primary').trim()")).toBe(
      '#0b7a55',
    );
    expect(await anonymous.page.title()).toBe('Acme Corp');
    await anonymous.context.close();
    expect(problems).toEqual([]);

    // The API: a member may not change it, another organization's owner gets 404, the public read needs nothing.
    const member = await t.createUser({ roles: ['member'], organizationId: orgId });
    const memberKey = await t.createApiKey(member.id);
    expect(
      (await t.req('PUT', `/v1/organizations/${orgId}/branding`, { apiKey: memberKey.secret, json: { displayName: 'x' } })).status,
    ).toBe(403);
    const stranger = await t.createUser({ roles: ['owner'] });
    const strangerKey = await t.createApiKey(stranger.id);
    expect(
      (await t.req('PUT', `/v1/organizations/${orgId}/branding`, { apiKey: strangerKey.secret, json: { displayName: 'x' } })).status,
    ).toBe(404);
    const ownerKey = await t.createApiKey(owner.id, ['users:read']);
    expect(
      (await t.req('PUT', `/v1/organizations/${orgId}/branding`, { apiKey: ownerKey.secret, json: { displayName: 'x' } })).status,
    ).toBe(403);
    const pub = await t.req('GET', `/v1/branding/${orgId}`);
    expect(pub.body).toEqual({
      organizationId: orgId,
      displayName: 'Acme Corp',
      logoUrl: 'https://cdn.example/logo.png',
      primaryColor: '#0b7a55',
    });
    expect((await t.req('GET', '/v1/branding/unknown')).body).toMatchObject({ displayName: null });
  });
});

describe("an administrator resets a user's MFA", () => {
  it('from the user page; the policy refuses members, API keys without users:write, other organizations and one’s own account', async () => {
    const admin = await t.createUser({ roles: ['admin'] });
    const user = await t.createUser({ roles: ['member'] });
    const login = await t.req('POST', '/v1/auth/login', { json: { username: user.userName, password: user.password } });
    const started = await t.req('POST', '/v1/auth/user', { token: login.body.token, json: { regenerateTempMfaSecret: true } });
    const { authenticator } = await import('../helpers/totp.js');
    const totp = authenticator(started.body.user.tempOtpSecret);
    await t.req('POST', '/v1/auth/user', { token: login.body.token, json: { otpCode: await totp.next(), user: { mfaEnabled: true } } });

    const { context, page } = await openContext(browser, t.url);
    await page.goto('/');
    await submitSignIn(page, admin.userName, admin.password);
    await page.waitForURL('**/account');
    await page.goto(`/admin/users/${user.id}`);
    await page.getByRole('heading', { name: user.userName }).waitFor();
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Reset two-step verification' }).click();
    await page.getByText('Two-step verification was reset.').waitFor();
    await context.close();
    // The password alone signs in again.
    const after = await t.req('POST', '/v1/auth/login', { json: { username: user.userName, password: user.password } });
    expect(after.body.token).toBeTypeOf('string');

    const member = await t.createUser({ roles: ['member'] });
    const memberKey = await t.createApiKey(member.id);
    expect((await t.req('POST', `/v1/users/${user.id}/mfa/reset`, { apiKey: memberKey.secret, json: {} })).status).toBe(403);
    const adminReadKey = await t.createApiKey(admin.id, ['users:read']);
    expect((await t.req('POST', `/v1/users/${user.id}/mfa/reset`, { apiKey: adminReadKey.secret, json: {} })).status).toBe(403);
    const adminKey = await t.createApiKey(admin.id);
    expect((await t.req('POST', `/v1/users/${admin.id}/mfa/reset`, { apiKey: adminKey.secret, json: {} })).status).toBe(403);
    const otherOrg = await t.createOrg();
    const stranger = await t.createUser({ roles: ['member'], organizationId: otherOrg });
    expect((await t.req('POST', `/v1/users/${stranger.id}/mfa/reset`, { apiKey: adminKey.secret, json: {} })).status).toBe(404);
    expect((await t.req('POST', `/v1/users/${user.id}/mfa/reset`, { apiKey: adminKey.secret, json: {} })).status).toBe(200);
  });
});
