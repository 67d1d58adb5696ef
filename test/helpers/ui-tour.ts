import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { submitSignIn } from './browser.js';
import type { TestApp } from './test-app.js';

/** One page of the console, reached from a fresh sign-in (or none) and ready when `ready` resolves. */
export interface Stop {
  /** File name in docs/screenshots/ and the test's label. */
  name: string;
  signedIn: boolean;
  go: (page: Page) => Promise<void>;
}

export interface TourSeed {
  owner: { userName: string; password: string };
  userId: string;
}

/** Data that makes every page show something: users, a key, a vault login, audit events. */
export async function seedTour(t: TestApp): Promise<TourSeed> {
  const owner = await t.createUser({ userName: 'olivia.owner', email: 'olivia@example.test', roles: ['owner'], emailVerified: true });
  const names = ['ada.lovelace', 'grace.hopper', 'alan.turing', 'katherine.johnson'];
  let userId = '';
  for (const [i, name] of names.entries()) {
    const u = await t.createUser({ userName: name, email: `${name}@example.test`, roles: [i === 0 ? 'admin' : 'member'] });
    userId ||= u.id;
  }
  await t.createApiKey(owner.id, ['users:read']);
  await t.req('POST', '/logins/upsert', {
    apiKey: t.adminKey,
    json: {
      name: 'Acme billing portal',
      authenticationUrl: 'https://billing.acme.test/login',
      homeUrl: 'https://billing.acme.test/',
      loginConfiguration: {
        username: 'finance-bot',
        password: `pw-${randomBytes(8).toString('hex')}`,
        twoFactorAuthConfiguration: { method: 'TOTP', totpSecretKey: 'JBSWY3DPEHPK3PXP' },
      },
    },
  });
  // A failed and a successful sign-in for the audit log.
  await t.req('POST', '/v1/auth/login', { json: { username: owner.userName, password: 'not the password' } });
  return { owner: { userName: owner.userName, password: owner.password }, userId };
}

const heading = (page: Page, name: string | RegExp) =>
  page
    .getByRole('heading', { name, exact: typeof name === 'string' })
    .first()
    .waitFor();
const visit = async (page: Page, path: string, title: string): Promise<void> => {
  await page.goto(path);
  await heading(page, title);
};

export function tourStops(seed: TourSeed): Stop[] {
  return [
    {
      name: 'sign-in',
      signedIn: false,
      go: async (page) => {
        await page.goto('/');
        await heading(page, /Sign in/);
      },
    },
    {
      name: 'sign-in-error',
      signedIn: false,
      go: async (page) => {
        await page.goto('/');
        await submitSignIn(page, 'someone', 'wrong password');
        await page.getByText('The user name or password is incorrect.').waitFor();
      },
    },
    {
      name: 'forgot-password',
      signedIn: false,
      go: async (page) => {
        await page.goto('/');
        await page.getByRole('button', { name: 'Forgot your password?' }).click();
        await heading(page, 'Reset your password');
      },
    },
    {
      name: 'reset-password',
      signedIn: false,
      go: async (page) => {
        await page.goto('/reset-password#token=example');
        await heading(page, 'Choose a new password');
      },
    },
    {
      name: 'verify-email',
      signedIn: false,
      go: async (page) => {
        await page.goto('/verify-email#code=example');
        await heading(page, 'Verify your email address');
      },
    },
    { name: 'account-profile', signedIn: true, go: (page) => visit(page, '/account', 'Profile') },
    {
      name: 'account-security',
      signedIn: true,
      go: async (page) => {
        await page.goto('/account/security');
        await heading(page, 'Security');
        await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
        await page.getByRole('img', { name: 'QR code for your authenticator app' }).waitFor();
      },
    },
    { name: 'account-sessions', signedIn: true, go: (page) => visit(page, '/account/sessions', 'Sessions') },
    {
      name: 'account-api-keys',
      signedIn: true,
      go: (page) => visit(page, '/account/api-keys', 'My API keys'),
    },
    {
      name: 'admin-users',
      signedIn: true,
      go: async (page) => {
        await page.goto('/admin/users');
        await page.getByRole('link', { name: 'ada.lovelace' }).waitFor();
      },
    },
    {
      name: 'admin-new-user',
      signedIn: true,
      go: (page) => visit(page, '/admin/users/new', 'New user'),
    },
    {
      name: 'admin-user',
      signedIn: true,
      go: (page) => visit(page, `/admin/users/${seed.userId}`, 'ada.lovelace'),
    },
    {
      name: 'admin-organization',
      signedIn: true,
      go: async (page) => {
        await page.goto('/admin/organization');
        await page.getByLabel('Minimum password length').waitFor();
      },
    },
    {
      name: 'admin-api-keys',
      signedIn: true,
      go: (page) => visit(page, '/admin/api-keys', 'API keys'),
    },
    {
      name: 'admin-identity-providers',
      signedIn: true,
      go: (page) => visit(page, '/admin/identity-providers', 'Identity providers'),
    },
    {
      name: 'admin-vault',
      signedIn: true,
      go: async (page) => {
        await page.goto('/admin/vault');
        await page.getByRole('cell', { name: 'Acme billing portal', exact: true }).waitFor();
      },
    },
    {
      name: 'admin-audit',
      signedIn: true,
      go: async (page) => {
        await page.goto('/admin/audit');
        await page.getByRole('cell', { name: 'session.login_failed' }).first().waitFor();
      },
    },
  ];
}

/** Signs the page's context in as the tour's owner. */
export async function signInOwner(page: Page, seed: TourSeed): Promise<void> {
  await page.goto('/');
  await submitSignIn(page, seed.owner.userName, seed.owner.password);
  await page.waitForURL('**/account');
}
