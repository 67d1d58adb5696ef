import { createHash } from 'node:crypto';
import * as oidc from 'openid-client';
import { Secret as OtpSecret, TOTP } from 'otpauth';
import type { Browser, Page } from 'playwright-core';
import { personContext, startCallbackServer } from './browser.js';
import type { TestApp } from './test-app.js';

/** The relying party's callback server (one per test file; tests in a file run one at a time). */
const callbacks = await startCallbackServer();
export const REDIRECT_URI = `${callbacks.origin}/callback`;
export const LOGOUT_URI = `${callbacks.origin}/signed-out`;
export const closeCallbacks = () => callbacks.close();

export interface RegisteredClient {
  clientId: string;
  clientSecret?: string;
}

/** Registers a client through the admin API. */
export async function registerClient(t: TestApp, input: Record<string, unknown>): Promise<RegisteredClient> {
  const res = await t.req('POST', '/v1/oauth-clients', {
    apiKey: t.adminKey,
    json: { redirectUris: [REDIRECT_URI], postLogoutRedirectUris: [LOGOUT_URI], ...input },
  });
  if (res.status !== 201) throw new Error(`client creation answered ${res.status}: ${res.text}`);
  return { clientId: res.body.client.clientId, ...(res.body.clientSecret ? { clientSecret: res.body.clientSecret } : {}) };
}

/** openid-client's configuration for a client, by discovery (plain http on loopback allowed). */
export async function relyingParty(issuer: string, client: RegisteredClient): Promise<oidc.Configuration> {
  return oidc.discovery(
    new URL(issuer),
    client.clientId,
    client.clientSecret,
    client.clientSecret ? oidc.ClientSecretBasic(client.clientSecret) : oidc.None(),
    { execute: [oidc.allowInsecureRequests] },
  );
}

/** `at_hash`: the left half of the access token's SHA-256, base64url (RS256). */
export const atHash = (accessToken: string): string =>
  createHash('sha256').update(accessToken).digest().subarray(0, 16).toString('base64url');

/** Fills the sign-in page (and the MFA page when `otp` is given). */
export async function fillSignIn(page: Page, user: { userName: string; password: string }, otp?: () => Promise<string>): Promise<void> {
  await page.waitForSelector('#username');
  await page.fill('#username', user.userName);
  await page.fill('#password', user.password);
  await page.click('#submit');
  if (otp) {
    await page.waitForSelector('#otp');
    await page.fill('#otp', await otp());
    await page.click('#submit');
  }
}

export interface Authorization {
  callback: URL;
  verifier: string;
  nonce: string;
  state: string;
}

/**
 * A browser (one context: one person's cookies) acting for relying parties: starts authorizations,
 * lets the test drive the pages, and answers where the provider sent it back.
 */
export async function personBrowser(browser: Browser) {
  const rp = { ...(await personContext(browser)), nextCallback: () => callbacks.next() };
  return {
    ...rp,
    async authorize(
      config: oidc.Configuration,
      options: { scope?: string; extra?: Record<string, string>; pkce?: boolean; interact?: (page: Page) => Promise<void> } = {},
    ): Promise<Authorization> {
      const verifier = oidc.randomPKCECodeVerifier();
      const nonce = oidc.randomNonce();
      const state = oidc.randomState();
      const params: Record<string, string> = {
        redirect_uri: REDIRECT_URI,
        scope: options.scope ?? 'openid profile email groups',
        nonce,
        state,
        ...(options.pkce === false
          ? {}
          : { code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' }),
        ...(options.extra ?? {}),
      };
      const url = oidc.buildAuthorizationUrl(config, params);
      const callback = rp.nextCallback();
      callback.catch(() => {});
      await rp.page.goto(url.href);
      if (options.interact) await options.interact(rp.page);
      return { callback: await callback, verifier, nonce, state };
    },
    close: async () => {
      callbacks.reset();
      await rp.context.close();
    },
  };
}

const STEP_MS = 30_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Codes of an authenticator, each of a later time step than the one before (the server takes each step once). */
export function authenticator(secret: string) {
  let last = Number.NEGATIVE_INFINITY;
  return async (): Promise<string> => {
    for (;;) {
      const now = Date.now();
      const current = Math.floor(now / STEP_MS);
      const earliest = now % STEP_MS > 25_000 ? current : current - 1;
      const step = Math.max(last + 1, earliest);
      if (step <= current + 1) {
        last = step;
        return TOTP.generate({ secret: OtpSecret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30, timestamp: step * STEP_MS });
      }
      await sleep((step - 1) * STEP_MS - now + 100);
    }
  };
}

/** Enrols TOTP for a user through the API; answers the next-code function. */
export async function enrolTotp(t: TestApp, user: { email: string; password: string }): Promise<() => Promise<string>> {
  const login = await t.req('POST', '/v1/auth/login', { json: { email: user.email, password: user.password } });
  const token = login.body.token as string;
  const started = await t.req('POST', '/v1/auth/user', { token, json: { regenerateTempMfaSecret: true } });
  const next = authenticator(started.body.user.tempOtpSecret as string);
  const confirmed = await t.req('POST', '/v1/auth/user', { token, json: { otpCode: await next(), user: { mfaEnabled: true } } });
  if (confirmed.status !== 200) throw new Error(`TOTP enrolment answered ${confirmed.status}: ${confirmed.text}`);
  return next;
}
