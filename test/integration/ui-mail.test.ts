import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Browser, launchBrowser, openContext, submitSignIn } from '../helpers/browser.js';
import { startSmtpSink } from '../helpers/smtp.js';
import { buildTestApp, type TestApp } from '../helpers/test-app.js';

// A browser drives each test: several steps of a second or more, slower on a loaded machine.
vi.setConfig({ testTimeout: 120_000 });

let t: TestApp;
let browser: Browser;
let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
beforeAll(async () => {
  smtp = await startSmtpSink();
  [t, browser] = await Promise.all([
    buildTestApp({
      PORTCULLIS_SMTP_URL: smtp.url,
      PORTCULLIS_SMTP_FROM: 'Portcullis <auth@portcullis.test>',
      PORTCULLIS_LOGIN_RATE_PER_IP: '1000',
    }),
    launchBrowser(),
  ]);
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
  await smtp?.close();
});

/**
 * The link in a mail, on the test server: the mail names the public URL (a port the test
 * cannot know in advance), so only its origin is swapped; path and fragment are the mail's.
 */
function linkIn(text: string, path: string): string {
  const match = new RegExp(`https?://[^\\s]+${path}#[^\\s]+`).exec(text);
  expect(match, text).not.toBeNull();
  const url = new URL(match![0]);
  return `${t.url}${url.pathname}${url.hash}`;
}

describe('mailed links in a real browser, through a real SMTP server', () => {
  it('forgot password: the request, the mail, /reset-password, then signing in with the new password', async () => {
    const user = await t.createUser({ roles: ['member'], emailVerified: true });
    const { context, page, problems } = await openContext(browser, t.url);
    await page.goto('/');
    await page.getByRole('button', { name: 'Forgot your password?' }).click();
    await page.getByLabel('User name or email').fill(user.email);
    await page.getByRole('button', { name: 'Send reset link' }).click();
    await page.getByRole('heading', { name: 'Check your mail' }).waitFor();
    const mail = await smtp.waitFor((m) => m.to.includes(user.email.toLowerCase()) && m.text.includes('/reset-password#token='));
    await page.goto(linkIn(mail.text, '/reset-password'));
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    // The token left the address bar (and the history) as soon as the page read it.
    expect(page.url()).not.toContain('token=');
    const next = 'reset by mail passphrase 7';
    await page.getByLabel('New password', { exact: true }).fill(next);
    await page.getByLabel('Repeat the new password').fill(next);
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByText('Your password is changed.').waitFor();
    await page.getByRole('link', { name: 'Sign in' }).click();
    await submitSignIn(page, user.userName, next);
    await page.waitForURL('**/account');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('the reset request reads the same for an unknown account', async () => {
    const { context, page } = await openContext(browser, t.url);
    await page.goto('/');
    await page.getByRole('button', { name: 'Forgot your password?' }).click();
    await page.getByLabel('User name or email').fill('nobody@nowhere.example');
    await page.getByRole('button', { name: 'Send reset link' }).click();
    await page.getByText('If the account exists').waitFor();
    await context.close();
  });

  it('email verification: the account page sends the mail, /verify-email from the mail verifies', async () => {
    const user = await t.createUser({ roles: ['member'] });
    const { context, page, problems } = await openContext(browser, t.url);
    await page.goto('/');
    await submitSignIn(page, user.userName, user.password);
    await page.getByText('not verified').waitFor();
    await page.getByRole('button', { name: 'Send verification mail' }).click();
    const mail = await smtp.waitFor((m) => m.to.includes(user.email.toLowerCase()) && m.text.includes('/verify-email#code='));
    await page.goto(linkIn(mail.text, '/verify-email'));
    await page.getByRole('heading', { name: 'Verify your email address' }).waitFor();
    expect(page.url()).not.toContain('code=');
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByText('Your email address is verified.').waitFor();
    await page.goto('/account');
    await page.getByText('verified', { exact: true }).waitFor();
    const me = await t.req('GET', `/v1/users/${user.id}`, { apiKey: t.adminKey });
    expect(me.body.emailVerified).toBe(true);
    expect(problems).toEqual([]);
    await context.close();
  });
});
