import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

/** Debian's chromium (installed by .ci/run), headless. */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-dev-shm-usage'],
  });
}

/**
 * A browser context where navigations to `redirectUri` (the relying party's callback) are answered
 * by the test itself; `nextCallback()` resolves with the URL the provider sent the browser to.
 */
export async function rpContext(
  browser: Browser,
  redirectUris: string[],
): Promise<{ context: BrowserContext; page: Page; nextCallback(): Promise<URL> }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const waiting: Array<(url: URL) => void> = [];
  const arrived: URL[] = [];
  for (const uri of redirectUris) {
    await context.route(`${uri}**`, async (route) => {
      const url = new URL(route.request().url());
      const w = waiting.shift();
      if (w) w(url);
      else arrived.push(url);
      await route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>callback</title><p id="callback">ok</p>' });
    });
  }
  return {
    context,
    page,
    nextCallback: () => {
      const ready = arrived.shift();
      if (ready) return Promise.resolve(ready);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no callback; page at ${page.url()}`)), 15_000);
        waiting.push((url) => {
          clearTimeout(timer);
          resolve(url);
        });
      });
    },
  };
}
