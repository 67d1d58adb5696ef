import { AxeBuilder } from '@axe-core/playwright';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Browser, launchBrowser, openContext } from '../helpers/browser.js';
import { buildTestApp, type TestApp } from '../helpers/test-app.js';
import { seedTour, signInOwner, type TourSeed, tourStops } from '../helpers/ui-tour.js';

// A browser drives each test: several steps of a second or more, slower on a loaded machine.
vi.setConfig({ testTimeout: 120_000 });

let t: TestApp;
let browser: Browser;
let seed: TourSeed;
beforeAll(async () => {
  [t, browser] = await Promise.all([buildTestApp({ PORTCULLIS_LOGIN_RATE_PER_IP: '1000' }), launchBrowser()]);
  seed = await seedTour(t);
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

describe('accessibility of every page (axe-core, WCAG 2.1 AA rules)', () => {
  for (const width of [1200, 390]) {
    it(`has no serious or critical violation, and no horizontal scrolling, at ${width} px`, async () => {
      const stops = tourStops(seed);
      const found: Record<string, string[]> = {};
      const anonymous = await openContext(browser, t.url, { width });
      const signedIn = await openContext(browser, t.url, { width });
      await signInOwner(signedIn.page, seed);
      for (const stop of stops) {
        const page = stop.signedIn ? signedIn.page : anonymous.page;
        await stop.go(page);
        const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
        const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
        if (bad.length) found[stop.name] = bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
        // The page itself never scrolls sideways (wide tables scroll inside their own box).
        const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
        if ((overflow as number) > 0) (found[stop.name] ??= []).push(`horizontal overflow ${overflow}px`);
      }
      expect(found).toEqual({});
      await anonymous.context.close();
      await signedIn.context.close();
    }, 400_000);
  }

  it('every action is reachable by keyboard, with a visible focus', async () => {
    const { context, page } = await openContext(browser, t.url);
    await page.goto('/');
    await page.getByRole('heading', { name: /Sign in/ }).waitFor();
    const focused = () =>
      page.evaluate(`(() => {
        const el = document.activeElement;
        const style = getComputedStyle(el);
        return { label: el.labels?.[0]?.textContent ?? el.textContent, outline: style.outlineStyle };
      })()`);
    // The first field has the focus; Tab walks the form with a visible outline.
    expect(await focused()).toMatchObject({ label: 'User name or email', outline: 'solid' });
    await page.keyboard.type(seed.owner.userName);
    await page.keyboard.press('Tab');
    expect(await focused()).toMatchObject({ label: 'Password', outline: 'solid' });
    await page.keyboard.type(seed.owner.password);
    await page.keyboard.press('Tab');
    expect(await focused()).toMatchObject({ label: 'Sign in', outline: 'solid' });
    await page.keyboard.press('Enter');
    await page.waitForURL('**/account');
    await context.close();
  });
});
