import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM = process.env.PORTCULLIS_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'];

/** Headless Debian Chromium through playwright-core (no downloaded browser). */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
}

/**
 * A fresh browser context (its own cookies) on the app, collecting console errors and CSP
 * violations so that a test can assert the page ran clean.
 */
export async function openContext(
  browser: Browser,
  baseURL: string,
  options: { width?: number } = {},
): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ baseURL, viewport: { width: options.width ?? 1200, height: 900 } });
  // A step that cannot happen fails in 10 s with the locator it waited for, not at the test's timeout.
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    const text = m.text();
    // 401s of the session probe are expected answers, not faults.
    if (m.type() === 'error' && !/status of 40[0-9]/.test(text)) problems.push(text);
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  return { context, page, problems };
}

export type { Browser, BrowserContext, Page };

/** Fills the hosted sign-in form and submits it (the caller waits for what follows). */
export async function submitSignIn(page: Page, identifier: string, password: string): Promise<void> {
  await page.getByLabel('User name or email').fill(identifier);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** A free loopback port (for a server whose public URL must be known before it listens). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
