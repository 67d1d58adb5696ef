import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Browser, launchBrowser, openContext, submitSignIn } from '../helpers/browser.js';
import { buildTestApp, type TestApp } from '../helpers/test-app.js';
import { authenticator } from '../helpers/totp.js';

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

/** A user with TOTP enrolled through the API. */
async function enrolledUser(organizationId?: string) {
  const user = await t.createUser({ roles: ['member'], ...(organizationId ? { organizationId } : {}) });
  const token = (await t.req('POST', '/v1/auth/login', { json: { username: user.userName, password: user.password } })).body.token;
  const started = await t.req('POST', '/v1/auth/user', { token, json: { regenerateTempMfaSecret: true } });
  const totp = authenticator(started.body.user.tempOtpSecret);
  const confirmed = await t.req('POST', '/v1/auth/user', { token, json: { otpCode: await totp.next(), user: { mfaEnabled: true } } });
  expect(confirmed.body.user.mfaEnabled).toBe(true);
  return { ...user, totp, recoveryCodes: started.body.user.tempRecoveryCodes as string[] };
}

describe('hosted sign-in in a real browser', () => {
  it('signs in with a password (errors beside the field), shows the profile, and signs out', async () => {
    const user = await t.createUser({ roles: ['member'] });
    const { context, page, problems } = await openContext(browser, t.url);
    await page.goto('/');
    await submitSignIn(page, user.userName, 'wrong password here');
    const error = page.getByText('The user name or password is incorrect.');
    await error.waitFor();
    // Beside the password field, and announced through aria-describedby.
    const describedBy = await page.getByLabel('Password', { exact: true }).getAttribute('aria-describedby');
    expect(describedBy).toBe(await error.getAttribute('id'));
    // Unknown accounts read exactly the same (no enumeration).
    await submitSignIn(page, 'nobody-here', 'wrong password here');
    await error.waitFor();
    await submitSignIn(page, user.email, user.password);
    await page.waitForURL('**/account');
    await page.getByRole('heading', { name: 'Profile' }).waitFor();
    expect(await page.getByText(user.userName).first().isVisible()).toBe(true);
    // The tokens are HttpOnly cookies: the page's script cannot read them.
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === 'access-token')?.httpOnly).toBe(true);
    expect(cookies.find((c) => c.name === 'refresh-token')?.httpOnly).toBe(true);
    expect(await page.evaluate('document.cookie')).not.toContain('access-token');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: /Sign in/ }).waitFor();
    expect((await context.cookies()).find((c) => c.name === 'access-token')).toBeUndefined();
    expect(problems).toEqual([]);
    await context.close();
  });

  it('signs in with a TOTP code computed by the test, and with a recovery code', async () => {
    const user = await enrolledUser();
    const { context, page, problems } = await openContext(browser, t.url);
    await page.goto('/');
    await submitSignIn(page, user.userName, user.password);
    await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
    await page.getByLabel('Authenticator code or recovery code').fill('000000');
    await page.getByRole('button', { name: 'Verify' }).click();
    await page
      .getByText(/code is invalid|invalid/i)
      .first()
      .waitFor();
    await page.getByLabel('Authenticator code or recovery code').fill(await user.totp.next());
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL('**/account');
    await page.getByRole('heading', { name: 'Profile' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: /Sign in/ }).waitFor();

    await submitSignIn(page, user.userName, user.password);
    await page.getByLabel('Authenticator code or recovery code').fill(user.recoveryCodes[0]!);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL('**/account');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('a password marked for change signs in to a forced password change, then to the account', async () => {
    const user = await t.createUser({ roles: ['member'] });
    expect((await t.req('PATCH', `/v1/users/${user.id}`, { apiKey: t.adminKey, json: { requireResetPassword: true } })).status).toBe(200);
    const { context, page, problems } = await openContext(browser, t.url);
    await page.goto('/?returnTo=/account/security');
    await submitSignIn(page, user.userName, user.password);
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    // The restricted session reaches nothing else: the account pages send it back here.
    await page.goto('/account');
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    const next = 'a brand new passphrase 42';
    await page.getByLabel('Current password').fill(user.password);
    await page.getByLabel('New password', { exact: true }).fill(next);
    await page.getByLabel('Repeat the new password').fill('something else entirely');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('The passwords do not match.').waitFor();
    await page.getByLabel('Repeat the new password').fill(next);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.waitForURL('**/account');
    await page.getByRole('heading', { name: 'Profile' }).waitFor();
    const fresh = await t.req('POST', '/v1/auth/login', { json: { username: user.userName, password: next } });
    expect(fresh.body.requireResetPassword).toBe(false);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('an organization that requires MFA sends a new member through enrolment (QR, recovery codes) before anything else', async () => {
    const orgId = await t.createOrg();
    expect(
      (await t.req('PATCH', `/v1/organizations/${orgId}`, { apiKey: t.adminKey, json: { policy: { requireMfa: true } } })).status,
    ).toBe(200);
    const user = await t.createUser({ roles: ['member'], organizationId: orgId });
    const { context, page, problems } = await openContext(browser, t.url);
    await page.goto('/');
    await submitSignIn(page, user.userName, user.password);
    await page.getByRole('heading', { name: 'Set up two-step verification' }).waitFor();
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    await page.getByRole('img', { name: 'QR code for your authenticator app' }).waitFor();
    const secret = (await page.getByTestId('totp-secret').textContent())!.trim();
    const codes = (await page.getByTestId('secret-value').textContent())!.trim().split('\n');
    expect(codes).toHaveLength(10);
    expect(await page.getByRole('link', { name: 'Download' }).getAttribute('download')).toBe('portcullis-recovery-codes.txt');
    const totp = authenticator(secret);
    await page.getByLabel('Code from the app').fill(await totp.next());
    await page.getByRole('button', { name: 'Turn on two-step verification' }).click();
    await page.getByRole('heading', { name: 'Two-step verification is on' }).waitFor();
    await page.getByRole('button', { name: 'Sign in again' }).click();
    await submitSignIn(page, user.userName, user.password);
    await page.getByLabel('Authenticator code or recovery code').fill(await totp.next());
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL('**/account');
    await page.getByRole('heading', { name: 'Profile' }).waitFor();
    expect(problems).toEqual([]);
    await context.close();
  });

  it('returnTo is honoured on this origin and ignored elsewhere', async () => {
    const user = await t.createUser({ roles: ['member'] });
    const { context, page } = await openContext(browser, t.url);
    await page.goto(`/?returnTo=${encodeURIComponent('https://evil.example/steal')}`);
    await submitSignIn(page, user.userName, user.password);
    await page.waitForURL('**/account');
    expect(new URL(page.url()).origin).toBe(t.url);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.goto('/?returnTo=%2F%2Fevil.example%2Fx');
    await submitSignIn(page, user.userName, user.password);
    await page.waitForURL('**/account');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.goto('/account/api-keys');
    await page.waitForURL(/returnTo=%2Faccount%2Fapi-keys/);
    await submitSignIn(page, user.userName, user.password);
    await page.waitForURL('**/account/api-keys');
    await context.close();
  });
});
