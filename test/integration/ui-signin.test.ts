import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, launchBrowser, openContext } from '../helpers/browser.js';
import { buildTestApp, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
let browser: Browser;
beforeAll(async () => {
  [t, browser] = await Promise.all([buildTestApp(), launchBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

describe('hosted sign-in in a real browser', () => {
  it('signs in with a password, shows the profile, and signs out', async () => {
    const user = await t.createUser({ roles: ['member'] });
    const { context, page, problems } = await openContext(browser, t.url);
    await page.goto('/');
    await page.getByLabel('User name or email').fill(user.userName);
    await page.getByLabel('Password').fill('wrong password here');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByText('The user name or password is incorrect.').isVisible()).toBe(true);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/account');
    await page.getByRole('heading', { name: 'Profile' }).waitFor();
    expect(await page.getByText(user.userName).first().isVisible()).toBe(true);
    // The tokens are HttpOnly cookies: the page's script cannot read them.
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === 'access-token')?.httpOnly).toBe(true);
    expect(cookies.find((c) => c.name === 'refresh-token')?.httpOnly).toBe(true);
    expect(await page.evaluate('document.cookie')).not.toContain('access-token');
    // A member sees no administration.
    expect(await page.getByRole('link', { name: 'Users' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: /Sign in/ }).waitFor();
    expect((await context.cookies()).find((c) => c.name === 'access-token')).toBeUndefined();
    expect(problems).toEqual([]);
    await context.close();
  });
});
