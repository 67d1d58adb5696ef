import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import * as oidc from 'openid-client';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser.js';
import {
  atHash,
  enrolTotp,
  fillSignIn,
  LOGOUT_URI,
  personBrowser,
  REDIRECT_URI,
  type RegisteredClient,
  registerClient,
  relyingParty,
} from '../helpers/oidc-rp.js';
import { buildTestApp, freePort, type TestApp } from '../helpers/test-app.js';

/** @see issue 17 — Portcullis as an OpenID Provider, driven by openid-client v6 and oauth4webapi with a real browser. */

const RESOURCE = 'https://api.example.test';
let t: TestApp;
let browser: Browser;
let issuer: string;
let webApp: RegisteredClient;
let firstParty: RegisteredClient;

beforeAll(async () => {
  const port = await freePort();
  issuer = `http://127.0.0.1:${port}`;
  t = await buildTestApp(
    { PORTCULLIS_PUBLIC_URL: issuer, PORTCULLIS_OIDC_RESOURCE_SERVERS: RESOURCE, PORTCULLIS_LOGIN_RATE_PER_IP: '1000' },
    {},
    { port },
  );
  browser = await launchChromium();
  webApp = await registerClient(t, {
    name: 'Web app',
    grantTypes: ['authorization_code', 'refresh_token'],
    allowedScopes: ['openid', 'profile', 'email', 'groups', 'offline_access'],
  });
  firstParty = await registerClient(t, { name: 'First party', firstParty: true, acr: 'urn:portcullis:acr:password' });
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

const jwks = () => createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`));

describe('authorization code + PKCE with openid-client', () => {
  it('discovers the provider, signs in through the page, validates the ID token, reads userinfo, rotates refresh tokens', async () => {
    const user = await t.createUser({ emailVerified: true });
    const config = await relyingParty(issuer, webApp);
    const meta = config.serverMetadata();
    expect(meta.issuer).toBe(issuer);
    expect(meta.code_challenge_methods_supported).toEqual(['S256']);
    expect(meta.jwks_uri).toBe(`${issuer}/.well-known/jwks.json`);

    const person = await personBrowser(browser);
    try {
      const auth = await person.authorize(config, {
        scope: 'openid profile email groups offline_access',
        extra: { prompt: 'consent' },
        interact: async (page) => {
          await fillSignIn(page, user);
          await page.waitForSelector('#allow');
          await page.click('#allow');
        },
      });
      const tokens = await oidc.authorizationCodeGrant(config, auth.callback, {
        pkceCodeVerifier: auth.verifier,
        expectedNonce: auth.nonce,
        expectedState: auth.state,
        idTokenExpected: true,
      });
      const idToken = tokens.id_token as string;
      const { payload, protectedHeader } = await jwtVerify(idToken, jwks(), { issuer, audience: webApp.clientId, algorithms: ['RS256'] });
      expect(protectedHeader.alg).toBe('RS256');
      expect(payload.sub).toBe(user.id);
      expect(payload.nonce).toBe(auth.nonce);
      expect(payload.at_hash).toBe(atHash(tokens.access_token));
      expect(payload.amr).toEqual(['pwd']);

      const info = await oidc.fetchUserInfo(config, tokens.access_token, user.id);
      expect(info).toMatchObject({
        sub: user.id,
        email: user.email,
        email_verified: true,
        preferred_username: user.userName,
        org: t.defaultOrgId,
      });
      expect(info.groups).toEqual([]);

      // Rotation: a new refresh token each time; the old one presented again revokes the whole grant.
      const first = tokens.refresh_token as string;
      expect(first).toBeTypeOf('string');
      const rotated = await oidc.refreshTokenGrant(config, first);
      expect(rotated.refresh_token).toBeTypeOf('string');
      expect(rotated.refresh_token).not.toBe(first);
      await expect(oidc.refreshTokenGrant(config, first)).rejects.toMatchObject({ error: 'invalid_grant' });
      await expect(oidc.refreshTokenGrant(config, rotated.refresh_token as string)).rejects.toMatchObject({ error: 'invalid_grant' });
      expect((await oidc.tokenIntrospection(config, rotated.access_token)).active).toBe(false);
    } finally {
      await person.close();
    }
  });

  it('signs in with a TOTP code: amr says pwd and otp', async () => {
    const user = await t.createUser({ emailVerified: true });
    const otp = await enrolTotp(t, user);
    const config = await relyingParty(issuer, firstParty);
    const person = await personBrowser(browser);
    try {
      const auth = await person.authorize(config, { interact: (page) => fillSignIn(page, user, otp) });
      const tokens = await oidc.authorizationCodeGrant(config, auth.callback, {
        pkceCodeVerifier: auth.verifier,
        expectedNonce: auth.nonce,
        expectedState: auth.state,
        idTokenExpected: true,
      });
      const { payload } = await jwtVerify(tokens.id_token as string, jwks(), { issuer, audience: firstParty.clientId });
      expect(payload.amr).toEqual(['pwd', 'otp']);
      expect(payload.acr).toBe('urn:portcullis:acr:password');
    } finally {
      await person.close();
    }
  });
});
