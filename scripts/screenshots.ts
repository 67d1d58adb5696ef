/**
 * Regenerates docs/screenshots/*.png: every page of the web console, in headless Chromium, on a
 * throw-away server (in-memory SQLite) seeded with a few users, a key and a vault login.
 * Usage: `npm run screenshots` (builds web/dist first when it is missing or stale).
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { launchBrowser, openContext } from '../test/helpers/browser.js';
import { buildTestApp } from '../test/helpers/test-app.js';
import { seedTour, signInOwner, tourStops } from '../test/helpers/ui-tour.js';
import buildWeb from '../test/helpers/web-build.js';

const OUT = fileURLToPath(new URL('../docs/screenshots/', import.meta.url));
/** Also shot 390 px wide (a phone). */
const MOBILE = new Set(['sign-in', 'admin-users', 'account-security']);

async function main(): Promise<void> {
  await buildWeb();
  mkdirSync(OUT, { recursive: true });
  const t = await buildTestApp({ PORTCULLIS_LOGIN_RATE_PER_IP: '1000' });
  const browser = await launchBrowser();
  try {
    const seed = await seedTour(t);
    for (const width of [1200, 390]) {
      const anonymous = await openContext(browser, t.url, { width });
      const signedIn = await openContext(browser, t.url, { width });
      await signInOwner(signedIn.page, seed);
      for (const stop of tourStops(seed)) {
        if (width !== 1200 && !MOBILE.has(stop.name)) continue;
        const page = stop.signedIn ? signedIn.page : anonymous.page;
        await stop.go(page);
        // No blinking caret or hover in the pictures.
        await page.evaluate('document.activeElement && document.activeElement.blur()');
        const file = `${OUT}${stop.name}${width === 1200 ? '' : '-mobile'}.png`;
        await page.screenshot({ path: file, fullPage: width !== 1200 });
        process.stdout.write(`${file}\n`);
      }
      await anonymous.context.close();
      await signedIn.context.close();
    }
  } finally {
    await browser.close();
    await t.close();
  }
}

await main();
