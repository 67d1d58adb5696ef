import { randomBytes } from 'node:crypto';
import type { Frame, Locator, Page } from 'playwright-core';
import type { Secret } from '../../crypto/index.js';
import { ERROR_TEXT, inPage, TAG_FIELD, TAG_SUBMIT } from './page-scripts.js';

/** The per-login selector overrides (Playwright selector syntax). */
export interface SelectorOverrides {
  identifier?: string | null;
  password?: string | null;
  submit?: string | null;
  code?: string | null;
  success?: string | null;
}

import type { FieldKind } from './page-scripts.js';

export type { FieldKind };

/** Why a sign-in did not succeed: `reason` is shown to the caller and audited, so it never holds a secret. */
export type SignInOutcome = { ok: true } | { ok: false; kind: 'refused' | 'not_understood' | 'no_code' | 'aborted'; reason: string };

export interface SignInInput {
  authenticationUrl: string;
  homeUrl: string;
  /** The login's identifiers: the field's type picks one (an email field gets the email, a tel field the phone). */
  identifiers: { username: string | null; email: string | null; phone: string | null };
  password: Secret | undefined;
  selectors: SelectorOverrides;
  /** Called when the site asks for a second-factor code; undefined when none could be had (the reason was recorded). */
  code(): Promise<string | undefined>;
  /** Called just before the step that makes the site send a code (emailed codes are looked for after it). */
  beforeCredentialsSubmitted(): void;
  signal: AbortSignal;
  step(name: string, detail?: string): void;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done);
  });

/** The identifier for this field: email for `type=email`/`autocomplete=email`, phone for `tel`, else the username first. */
async function identifierFor(found: Found, ids: SignInInput['identifiers']): Promise<string | undefined> {
  const [type, ac] = await Promise.all([
    found.locator.getAttribute('type').catch(() => null),
    found.locator.getAttribute('autocomplete').catch(() => null),
  ]);
  const kind = `${type ?? ''} ${ac ?? ''}`.toLowerCase();
  if (/email/.test(kind)) return ids.email ?? ids.username ?? ids.phone ?? undefined;
  if (/\btel\b/.test(kind)) return ids.phone ?? ids.username ?? ids.email ?? undefined;
  return ids.username ?? ids.email ?? ids.phone ?? undefined;
}

interface Found {
  frame: Frame;
  locator: Locator;
  nonce: string;
}

async function findField(page: Page, kind: FieldKind, override: string | null | undefined, preferred?: Frame): Promise<Found | undefined> {
  const frames = preferred ? [preferred, ...page.frames().filter((f) => f !== preferred)] : page.frames();
  for (const frame of frames) {
    if (frame.isDetached()) continue;
    const nonce = randomBytes(6).toString('hex');
    try {
      if (override) {
        const locator = frame.locator(override).first();
        if (await locator.isVisible({ timeout: 0 })) {
          await locator.evaluate((el, n) => el.setAttribute('data-portcullis-field', n), nonce);
          return { frame, locator, nonce };
        }
        continue;
      }
      if (await frame.evaluate<boolean>(inPage(TAG_FIELD, { kind, nonce }))) {
        return { frame, locator: frame.locator(`[data-portcullis-field="${nonce}"]`), nonce };
      }
    } catch {
      // A frame navigating away or detaching while it is read: the next pass sees the new document.
    }
  }
  return undefined;
}

async function submit(found: Found, override: string | null | undefined): Promise<void> {
  const { frame, locator, nonce } = found;
  if (override) {
    const button = frame.locator(override).first();
    if (await button.isVisible({ timeout: 0 }).catch(() => false)) return button.click({ timeout: 5000 });
  }
  const buttonNonce = randomBytes(6).toString('hex');
  const tagged = await frame.evaluate<boolean>(inPage(TAG_SUBMIT, { field: nonce, nonce: buttonNonce })).catch(() => false);
  if (tagged) return frame.locator(`[data-portcullis-submit="${buttonNonce}"]`).click({ timeout: 5000, noWaitAfter: true });
  await locator.press('Enter', { timeout: 5000, noWaitAfter: true });
}

/** True when `url` is on the home URL's origin under its path. */
export function isAtHome(url: string, homeUrl: string): boolean {
  try {
    const u = new URL(url);
    const h = new URL(homeUrl);
    if (u.origin !== h.origin) return false;
    const prefix = h.pathname.endsWith('/') ? h.pathname : `${h.pathname}/`;
    return u.pathname === h.pathname || u.pathname.startsWith(prefix) || h.pathname === '/';
  } catch {
    return false;
  }
}

/** Waits for the page to react to an action: the URL changes or the acted-on field goes away (or `ms` pass). */
async function settle(page: Page, before: string, field: Locator | undefined, ms: number, signal: AbortSignal): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until && !signal.aborted) {
    await sleep(100, signal);
    if (page.url() !== before) break;
    if (field && !(await field.isVisible({ timeout: 0 }).catch(() => false))) break;
  }
  await page.waitForLoadState('domcontentloaded', { timeout: Math.max(1, until - Date.now()) }).catch(() => {});
}

/** Signed in: the success selector is visible, or the page is under the home URL with no sign-in field in sight. */
export async function signedIn(page: Page, homeUrl: string, selectors: SelectorOverrides): Promise<boolean> {
  if (selectors.success) {
    for (const frame of page.frames()) {
      if (
        await frame
          .locator(selectors.success)
          .first()
          .isVisible({ timeout: 0 })
          .catch(() => false)
      )
        return true;
    }
  }
  if (!isAtHome(page.url(), homeUrl)) return false;
  for (const kind of ['password', 'code'] as const) {
    if (await findField(page, kind, selectors[kind])) return false;
  }
  return true;
}

/**
 * Signs in on `page`: identifier and password on one page or two, in any frame; then a second-factor
 * code when the site asks for one. Never retries a refused credential (one attempt per run: a retry
 * storm locks accounts).
 */
export async function signIn(page: Page, input: SignInInput): Promise<SignInOutcome> {
  const { selectors, signal, step } = input;
  const aborted = (): SignInOutcome => ({ ok: false, kind: 'aborted', reason: 'aborted' });
  step('navigate', new URL(input.authenticationUrl).host);
  await page.goto(input.authenticationUrl, { waitUntil: 'domcontentloaded' });
  let passwordSubmitted = false;
  let identifierSubmitted = 0;
  let codeSubmitted = false;
  let idle = 0;
  for (let pass = 0; pass < 20; pass++) {
    if (signal.aborted) return aborted();
    if (await signedIn(page, input.homeUrl, selectors)) return { ok: true };

    const password = await findField(page, 'password', selectors.password);
    if (password) {
      if (passwordSubmitted) {
        const text = await password.frame.evaluate<string>(inPage(ERROR_TEXT)).catch(() => '');
        return {
          ok: false,
          kind: 'refused',
          reason: `The site refused the credentials: the sign-in form came back${text ? ` (“${text}”)` : ''}.`,
        };
      }
      if (!input.password) return { ok: false, kind: 'not_understood', reason: 'The site asks for a password and the login has none.' };
      const identifier = await findField(page, 'identifier', selectors.identifier, password.frame);
      const value = identifier && identifier.frame === password.frame ? await identifierFor(identifier, input.identifiers) : undefined;
      if (identifier && value !== undefined && (await identifier.locator.inputValue().catch(() => '')) !== value) {
        step('fill_identifier');
        await identifier.locator.fill(value);
      }
      step('fill_password', password.frame === page.mainFrame() ? undefined : 'in a frame');
      await password.locator.fill(input.password.unwrap());
      input.beforeCredentialsSubmitted();
      const before = page.url();
      step('submit');
      await submit(password, selectors.submit);
      passwordSubmitted = true;
      await settle(page, before, password.locator, 5000, signal);
      continue;
    }

    if (passwordSubmitted || identifierSubmitted > 0) {
      const code = await findField(page, 'code', selectors.code);
      if (code) {
        if (codeSubmitted) {
          const text = await code.frame.evaluate<string>(inPage(ERROR_TEXT)).catch(() => '');
          return { ok: false, kind: 'refused', reason: `The site refused the second-factor code${text ? ` (“${text}”)` : ''}.` };
        }
        step('code_requested');
        const value = await input.code();
        if (signal.aborted) return aborted();
        if (value === undefined) return { ok: false, kind: 'no_code', reason: 'No second-factor code could be obtained.' };
        step('fill_code');
        await code.locator.fill(value);
        const before = page.url();
        step('submit_code');
        await submit(code, selectors.submit);
        codeSubmitted = true;
        await settle(page, before, code.locator, 5000, signal);
        continue;
      }
    }

    const identifier = await findField(page, 'identifier', selectors.identifier);
    const value = identifier ? await identifierFor(identifier, input.identifiers) : undefined;
    if (identifier && value !== undefined && !passwordSubmitted) {
      if (identifierSubmitted >= 2) {
        return { ok: false, kind: 'refused', reason: 'The site did not accept the identifier: its form came back.' };
      }
      step('fill_identifier', identifier.frame === page.mainFrame() ? 'two-step' : 'two-step, in a frame');
      await identifier.locator.fill(value);
      input.beforeCredentialsSubmitted();
      const before = page.url();
      step('submit');
      await submit(identifier, selectors.submit);
      identifierSubmitted++;
      await settle(page, before, identifier.locator, 5000, signal);
      continue;
    }

    // Nothing to act on yet: the page may still be loading or redirecting.
    if (++idle > 12) break;
    await sleep(250, signal);
  }
  if (signal.aborted) return aborted();
  return { ok: false, kind: 'not_understood', reason: 'The runner did not understand the page: no sign-in form and not at the home URL.' };
}
