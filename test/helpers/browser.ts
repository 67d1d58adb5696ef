import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
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

export { freePort } from './test-app.js';

/**
 * The relying party's side in a browser test: a real HTTP server on loopback that answers every
 * request with a small page and hands the URLs it received to whoever waits for the next one.
 */
export async function startCallbackServer(): Promise<{ origin: string; next(): Promise<URL>; reset(): void; close(): Promise<void> }> {
  const waiting: Array<(url: URL) => void> = [];
  const arrived: URL[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', origin);
    if (url.pathname === '/favicon.ico') {
      res.writeHead(404).end();
      return;
    }
    const w = waiting.shift();
    if (w) w(url);
    else arrived.push(url);
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>callback</title><p id="callback">ok</p>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    next() {
      const ready = arrived.shift();
      if (ready) return Promise.resolve(ready);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no callback within 15 s')), 15_000);
        waiting.push((url) => {
          clearTimeout(timer);
          resolve(url);
        });
      });
    },
    /** Forgets what arrived and what waits (a test that ends with its browser). */
    reset() {
      waiting.length = 0;
      arrived.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A fresh browser context (one person's cookies) and its page. */
export async function personContext(browser: Browser): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  return { context, page: await context.newPage() };
}
