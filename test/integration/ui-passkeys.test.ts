import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Browser, type BrowserContext, freePort, launchBrowser, openContext, type Page, submitSignIn } from '../helpers/browser.js';
import { buildTestApp, type TestApp } from '../helpers/test-app.js';
import { authenticator } from '../helpers/totp.js';

// A browser drives each test: several steps of a second or more, slower on a loaded machine.
vi.setConfig({ testTimeout: 120_000 });

let t: TestApp;
let browser: Browser;
let origin: string;
beforeAll(async () => {
  // WebAuthn needs a host name as the relying party (not an IP address): the public URL is
  // http://localhost:<port>, a secure context for browsers, and the server listens on that port.
  const port = await freePort();
  origin = `http://localhost:${port}`;
  [t, browser] = await Promise.all([
    buildTestApp({ PORTCULLIS_PUBLIC_URL: origin, PORTCULLIS_LOGIN_RATE_PER_IP: '1000' }, {}, { port }),
    launchBrowser(),
  ]);
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

/** Chromium's virtual authenticator (CDP WebAuthn domain): a platform authenticator with user verification. */
async function virtualAuthenticator(context: BrowserContext, page: Page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const add = async () =>
    (
      await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: {
          protocol: 'ctap2',
          transport: 'internal',
          hasResidentKey: true,
          hasUserVerification: true,
          isUserVerified: true,
          automaticPresenceSimulation: true,
        },
      })
    ).authenticatorId;
  const authenticatorId = await add();
  return { cdp, authenticatorId, add };
}

const token = async (user: { userName: string; password: string }) =>
  (await t.req('POST', '/v1/auth/login', { json: { username: user.userName, password: user.password } })).body.token as string;

describe('passkeys in a real browser (virtual authenticator)', () => {
  it('registers, renames, signs in passwordless and as the second factor, detects a cloned authenticator, and removes', async () => {
    const user = await t.createUser({ roles: ['member'] });
    const { context, page, problems } = await openContext(browser, origin);
    const { cdp, authenticatorId, add } = await virtualAuthenticator(context, page);

    await page.goto('/');
    await submitSignIn(page, user.userName, user.password);
    await page.waitForURL('**/account');
    await page.getByRole('link', { name: 'Security' }).click();
    await page.getByText('No passkeys yet.').waitFor();
    await page.getByLabel('Name for the new passkey').fill('Laptop');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.getByText('Laptop', { exact: true }).waitFor();
    const stored = (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
    expect(stored).toHaveLength(1);
    expect(stored[0]!.isResidentCredential).toBe(true);

    await page.getByRole('button', { name: 'Rename Laptop' }).click();
    await page.getByLabel('Passkey name').fill('Work laptop');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Work laptop', { exact: true }).waitFor();

    // Passwordless: no user name, no password.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.goto('/');
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.waitForURL('**/account');
    await page.getByRole('heading', { name: 'Profile' }).waitFor();

    // As the second factor after the password, for a user with MFA on.
    const bearer = await token(user);
    const started = await t.req('POST', '/v1/auth/user', { token: bearer, json: { regenerateTempMfaSecret: true } });
    const totp = authenticator(started.body.user.tempOtpSecret);
    expect(
      (await t.req('POST', '/v1/auth/user', { token: bearer, json: { otpCode: await totp.next(), user: { mfaEnabled: true } } })).status,
    ).toBe(200);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.goto('/');
    await submitSignIn(page, user.userName, user.password);
    await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
    await page.getByRole('button', { name: 'Use a passkey instead' }).click();
    await page.waitForURL('**/account');

    // The passkeys list through the API: used, counter moved.
    const listed = await t.req('GET', '/v1/auth/passkeys', { token: await totpToken(user, totp) });
    expect(listed.body.passkeys).toHaveLength(1);
    expect(listed.body.passkeys[0]).toMatchObject({ name: 'Work laptop', cloneSuspected: false });
    expect(listed.body.passkeys[0].lastUsedAt).toBeTypeOf('string');

    // A clone: the same credential on another authenticator whose counter starts again at 0.
    const credential = (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials[0]!;
    expect(credential.signCount).toBeGreaterThan(1);
    await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
    const cloneId = await add();
    await cdp.send('WebAuthn.addCredential', { authenticatorId: cloneId, credential: { ...credential, signCount: 0 } });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.goto('/');
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.getByText('That passkey could not sign you in.').waitFor();
    const afterClone = await t.req('GET', '/v1/auth/passkeys', { token: await totpToken(user, totp) });
    expect(afterClone.body.passkeys[0].cloneSuspected).toBe(true);
    const audit = await t.req('GET', '/v1/audit-events?action=mfa.passkey_clone_suspected', { apiKey: t.adminKey });
    expect(audit.body.events.some((e: { targetId: string }) => e.targetId === user.id)).toBe(true);
    // Even the original authenticator no longer signs in with it.
    await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: cloneId });
    const again = await add();
    await cdp.send('WebAuthn.addCredential', {
      authenticatorId: again,
      credential: { ...credential, signCount: credential.signCount + 10 },
    });
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.getByText('That passkey could not sign you in.').waitFor();

    // Removing it from the account page.
    await submitSignIn(page, user.userName, user.password);
    await page.getByLabel('Authenticator code or recovery code').fill(await totp.next());
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL('**/account');
    await page.goto('/account/security');
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Remove Work laptop' }).click();
    await page.getByText('No passkeys yet.').waitFor();
    expect(problems.filter((p) => !/401|Unauthorized/.test(p))).toEqual([]);
    await context.close();
  });

  it('passkey routes: an API key cannot manage passkeys, another user’s passkey is not found, unauthenticated calls are refused', async () => {
    const owner = await t.createUser({ roles: ['owner'] });
    const member = await t.createUser({ roles: ['member'] });
    const key = await t.createApiKey(owner.id);
    expect((await t.req('POST', '/v1/auth/passkeys/registration-options', { apiKey: key.secret, json: {} })).status).toBe(403);
    expect((await t.req('GET', '/v1/auth/passkeys', { apiKey: key.secret })).status).toBe(403);
    expect((await t.req('GET', '/v1/auth/passkeys')).status).toBe(401);
    const memberToken = await token(member);
    const options = await t.req('POST', '/v1/auth/passkeys/registration-options', { token: memberToken, json: {} });
    expect(options.status).toBe(200);
    expect(options.body.options).toMatchObject({ rp: { id: 'localhost' }, authenticatorSelection: { residentKey: 'required' } });
    expect((await t.req('PATCH', '/v1/auth/passkeys/nope', { token: memberToken, json: { name: 'x' } })).status).toBe(404);
    expect((await t.req('DELETE', '/v1/auth/passkeys/nope', { token: memberToken })).status).toBe(404);
    // A made-up assertion: one generic 401.
    const flow = await t.req('POST', '/v1/auth/passkeys/authentication-options', { json: {} });
    expect(flow.status).toBe(200);
    const bogus = await t.req('POST', '/v1/auth/passkeys/authentication', {
      json: {
        flowId: flow.body.flowId,
        response: {
          id: 'AAAA',
          rawId: 'AAAA',
          type: 'public-key',
          response: { clientDataJSON: 'AA', authenticatorData: 'AA', signature: 'AA' },
          clientExtensionResults: {},
        },
      },
    });
    expect(bogus.status).toBe(401);
    expect(bogus.body.error).toBe('auth.invalid_credentials');
    // The flow was used once.
    const replay = await t.req('POST', '/v1/auth/passkeys/authentication', {
      json: {
        flowId: flow.body.flowId,
        response: {
          id: 'AAAA',
          rawId: 'AAAA',
          type: 'public-key',
          response: { clientDataJSON: 'AA', authenticatorData: 'AA', signature: 'AA' },
          clientExtensionResults: {},
        },
      },
    });
    expect(replay.status).toBe(401);
  });
});

async function totpToken(user: { userName: string; password: string }, totp: { next(): Promise<string> }): Promise<string> {
  const res = await t.req('POST', '/v1/auth/login', {
    json: { username: user.userName, password: user.password, otpCode: await totp.next() },
  });
  expect(res.status, res.text).toBe(200);
  return res.body.token;
}
