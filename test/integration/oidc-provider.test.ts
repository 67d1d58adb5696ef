import { createHash } from 'node:crypto';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import * as oidc from 'openid-client';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import {
  atHash,
  closeCallbacks,
  enrolTotp,
  fillSignIn,
  LOGOUT_URI,
  personBrowser,
  REDIRECT_URI,
  type RegisteredClient,
  registerClient,
  relyingParty,
} from '../helpers/oidc-rp.js';
import { buildTestApp, freePort, PG_URL, REDIS_URL, type TestApp } from '../helpers/test-app.js';

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
  browser = await launchBrowser();
  webApp = await registerClient(t, {
    name: 'Web app',
    grantTypes: ['authorization_code', 'refresh_token'],
    allowedScopes: ['openid', 'profile', 'email', 'groups', 'offline_access'],
  });
  firstParty = await registerClient(t, { name: 'First party', firstParty: true, acr: 'urn:portcullis:acr:password' });
});
afterAll(async () => {
  await browser?.close();
  await closeCallbacks();
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
      // A first-party application asking for offline_access (prompt=consent) is not shown a consent page.
      const auth = await person.authorize(config, {
        scope: 'openid offline_access',
        extra: { prompt: 'consent' },
        interact: (page) => fillSignIn(page, user, otp),
      });
      const tokens = await oidc.authorizationCodeGrant(config, auth.callback, {
        pkceCodeVerifier: auth.verifier,
        expectedNonce: auth.nonce,
        expectedState: auth.state,
        idTokenExpected: true,
      });
      const { payload } = await jwtVerify(tokens.id_token as string, jwks(), { issuer, audience: firstParty.clientId });
      expect(payload.amr).toEqual(['pwd', 'otp']);
      expect(payload.acr).toBe('urn:portcullis:acr:password');
      expect(tokens.refresh_token).toBeTypeOf('string');
    } finally {
      await person.close();
    }
  });
});

const tokenEndpoint = () => `${issuer}/oauth2/token`;
const basic = (c: RegisteredClient) =>
  `Basic ${Buffer.from(`${encodeURIComponent(c.clientId)}:${encodeURIComponent(c.clientSecret ?? '')}`).toString('base64')}`;

/** A raw token request (the refusal tests send what a library would not). */
async function tokenRequest(params: Record<string, string>, authorization?: string) {
  const res = await fetch(tokenEndpoint(), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(authorization ? { authorization } : {}) },
    body: new URLSearchParams(params).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** A person signs in to a first-party client in a new browser; answers the code, its verifier and the still-open browser. */
async function signedInCode(client: RegisteredClient, user: { userName: string; password: string }) {
  const config = await relyingParty(issuer, client);
  const person = await personBrowser(browser);
  const auth = await person.authorize(config, { interact: (page) => fillSignIn(page, user) });
  const code = auth.callback.searchParams.get('code');
  if (!code) throw new Error(`no code: ${auth.callback}`);
  return { config, person, auth, code };
}

describe('other grants and endpoints', () => {
  it('client credentials: an opaque token that introspects, and an RFC 9068 JWT for a registered resource', async () => {
    const service = await registerClient(t, {
      name: 'Service',
      grantTypes: ['client_credentials'],
      redirectUris: [],
      postLogoutRedirectUris: [],
    });
    const config = await relyingParty(issuer, service);
    const opaque = await oidc.clientCredentialsGrant(config);
    expect(opaque.token_type.toLowerCase()).toBe('bearer');
    expect((await oidc.tokenIntrospection(config, opaque.access_token)).active).toBe(true);

    const jwt = await oidc.clientCredentialsGrant(config, { resource: RESOURCE });
    const { payload, protectedHeader } = await jwtVerify(jwt.access_token, jwks(), { issuer, audience: RESOURCE, typ: 'at+jwt' });
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload.client_id).toBe(service.clientId);

    await expect(oidc.clientCredentialsGrant(config, { resource: 'https://unknown.example.test' })).rejects.toMatchObject({
      error: 'invalid_target',
    });
    const audit = await t.req('GET', `/v1/audit-events?action=oauth.token_issued`, { apiKey: t.adminKey });
    expect(audit.body.events.some((e: { targetId: string }) => e.targetId === service.clientId)).toBe(true);
  });

  it('introspection and revocation: a revoked access token is no longer active', async () => {
    const user = await t.createUser({});
    const { config, person, auth } = await signedInCode(firstParty, user);
    try {
      const tokens = await oidc.authorizationCodeGrant(config, auth.callback, {
        pkceCodeVerifier: auth.verifier,
        expectedNonce: auth.nonce,
        expectedState: auth.state,
      });
      const before = await oidc.tokenIntrospection(config, tokens.access_token);
      expect(before).toMatchObject({ active: true, sub: user.id, client_id: firstParty.clientId });
      await oidc.tokenRevocation(config, tokens.access_token);
      expect((await oidc.tokenIntrospection(config, tokens.access_token)).active).toBe(false);
      await expect(oidc.fetchUserInfo(config, tokens.access_token, user.id)).rejects.toBeDefined();
    } finally {
      await person.close();
    }
  });

  it('single sign-on across applications, prompt=login and login_hint; RP-initiated logout ends it', async () => {
    const user = await t.createUser({});
    const other = await registerClient(t, { name: 'Other first party', firstParty: true });
    const { config, person, auth } = await signedInCode(firstParty, user);
    try {
      const tokens = await oidc.authorizationCodeGrant(config, auth.callback, {
        pkceCodeVerifier: auth.verifier,
        expectedNonce: auth.nonce,
        expectedState: auth.state,
      });
      // Another application: no sign-in page.
      const otherConfig = await relyingParty(issuer, other);
      const sso = await person.authorize(otherConfig);
      expect(sso.callback.searchParams.get('code')).toBeTruthy();
      // prompt=login asks again, with the hinted name filled in.
      const again = await person.authorize(otherConfig, {
        extra: { prompt: 'login', login_hint: user.userName },
        interact: async (page) => {
          await page.waitForSelector('#password');
          expect(await page.inputValue('#username')).toBe(user.userName);
          await page.fill('#password', user.password);
          await page.click('#submit');
        },
      });
      expect(again.callback.searchParams.get('code')).toBeTruthy();

      const logoutDone = person.nextCallback();
      await person.page.goto(
        oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token as string, post_logout_redirect_uri: LOGOUT_URI }).href,
      );
      await person.page.click('#logout');
      expect((await logoutDone).pathname).toBe('/signed-out');
      expect((await person.context.cookies()).map((c) => c.name)).not.toContain('refresh-token');
      // Signed out everywhere: the next authorization shows the sign-in page.
      const after = person.authorize(otherConfig, { interact: (page) => fillSignIn(page, user) });
      await person.page.waitForSelector('#username');
      expect((await after).callback.searchParams.get('code')).toBeTruthy();
    } finally {
      await person.close();
    }
  });

  it('a person signed in to Portcullis itself is not asked again', async () => {
    const user = await t.createUser({});
    const config = await relyingParty(issuer, firstParty);
    const person = await personBrowser(browser);
    try {
      const login = await person.context.request.post(`${issuer}/v1/auth/login`, {
        data: { username: user.userName, password: user.password, web: true },
      });
      expect(login.status()).toBe(200);
      const auth = await person.authorize(config);
      const tokens = await oidc.authorizationCodeGrant(config, auth.callback, {
        pkceCodeVerifier: auth.verifier,
        expectedNonce: auth.nonce,
        expectedState: auth.state,
      });
      expect(decodeJwt(tokens.id_token as string).sub).toBe(user.id);
    } finally {
      await person.close();
    }
  });

  it('oauth4webapi passes the same happy path', async () => {
    const user = await t.createUser({ emailVerified: true });
    const as = await oauth.processDiscoveryResponse(
      new URL(issuer),
      await oauth.discoveryRequest(new URL(issuer), { [oauth.allowInsecureRequests]: true }),
    );
    const client: oauth.Client = { client_id: firstParty.clientId };
    const verifier = oauth.generateRandomCodeVerifier();
    const nonce = oauth.generateRandomNonce();
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint as string);
    url.search = new URLSearchParams({
      client_id: client.client_id,
      redirect_uri: REDIRECT_URI,
      response_type: 'code',
      scope: 'openid email',
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      nonce,
      state,
    }).toString();
    const person = await personBrowser(browser);
    try {
      const back = person.nextCallback();
      await person.page.goto(url.href);
      await fillSignIn(person.page, user);
      const params = oauth.validateAuthResponse(as, client, await back, state);
      const response = await oauth.authorizationCodeGrantRequest(
        as,
        client,
        oauth.ClientSecretBasic(firstParty.clientSecret as string),
        params,
        REDIRECT_URI,
        verifier,
        {
          [oauth.allowInsecureRequests]: true,
        },
      );
      const result = await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: nonce, requireIdToken: true });
      const claims = oauth.getValidatedIdTokenClaims(result);
      expect(claims?.sub).toBe(user.id);
      const info = await oauth.processUserInfoResponse(
        as,
        client,
        user.id,
        await oauth.userInfoRequest(as, client, result.access_token, { [oauth.allowInsecureRequests]: true }),
      );
      expect(info).toMatchObject({ sub: user.id, email: user.email, email_verified: true });
    } finally {
      await person.close();
    }
  });
});

describe('at rest and extensions', () => {
  it('codes, tokens and sessions are stored as hashes: the table holds no usable credential', async () => {
    const user = await t.createUser({});
    const { config, person, auth, code } = await signedInCode(firstParty, user);
    try {
      const tokens = await oidc.authorizationCodeGrant(config, auth.callback, {
        pkceCodeVerifier: auth.verifier,
        expectedNonce: auth.nonce,
        expectedState: auth.state,
      });
      const session = (await person.context.cookies()).find((c) => c.name === 'pc_oidc_session')?.value;
      const rows = JSON.stringify(await t.app.services.storage.db.selectFrom('oidcPayloads').selectAll().execute());
      for (const secret of [code, tokens.access_token, session]) {
        expect(secret).toBeTypeOf('string');
        expect(rows).not.toContain(secret as string);
      }
      expect((await oidc.tokenIntrospection(config, tokens.access_token)).active).toBe(true);
    } finally {
      await person.close();
    }
  });

  it('pushed authorization requests (RFC 9126) and DPoP-bound tokens (RFC 9449)', async () => {
    const par = await fetch(`${issuer}/oauth2/par`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(firstParty) },
      body: new URLSearchParams({
        client_id: firstParty.clientId,
        redirect_uri: REDIRECT_URI,
        response_type: 'code',
        scope: 'openid',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
      }).toString(),
    });
    const parBody = await par.json();
    expect(par.status, JSON.stringify(parBody)).toBe(201);
    expect(parBody).toMatchObject({
      request_uri: expect.stringMatching(/^urn:ietf:params:oauth:request_uri:/),
      expires_in: expect.any(Number),
    });

    const service = await registerClient(t, {
      name: 'DPoP service',
      grantTypes: ['client_credentials'],
      redirectUris: [],
      postLogoutRedirectUris: [],
    });
    const config = await relyingParty(issuer, service);
    const dpop = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));
    const bound = await oidc.clientCredentialsGrant(config, {}, { DPoP: dpop });
    expect(bound.token_type.toLowerCase()).toBe('dpop');
    const info = await oidc.tokenIntrospection(config, bound.access_token);
    expect(info.active).toBe(true);
    expect(info.cnf).toHaveProperty('jkt');
  });
});

describe('refusals', () => {
  it('an unregistered redirect_uri: an error page, no redirect', async () => {
    const url = new URL(`${issuer}/oauth2/authorize`);
    url.search = new URLSearchParams({
      client_id: firstParty.clientId,
      redirect_uri: 'https://attacker.example.test/cb',
      response_type: 'code',
      scope: 'openid',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    }).toString();
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain('invalid_redirect_uri');
  });

  it('a missing or wrong PKCE verifier', async () => {
    const user = await t.createUser({});
    const { person, code, auth } = await signedInCode(firstParty, user);
    await person.close();
    const base = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI };
    const missing = await tokenRequest(base, basic(firstParty));
    expect(missing.status).toBe(400);
    expect(missing.body.error).toBe('invalid_grant');
    const { person: p2, code: code2 } = await signedInCode(firstParty, user);
    await p2.close();
    const wrong = await tokenRequest({ ...base, code: code2, code_verifier: `${auth.verifier}x` }, basic(firstParty));
    expect(wrong.body.error).toBe('invalid_grant');
  });

  it('a code used twice: refused, and the tokens from its first use are revoked', async () => {
    const user = await t.createUser({});
    const { config, person, code, auth } = await signedInCode(firstParty, user);
    await person.close();
    const params = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: auth.verifier };
    const first = await tokenRequest(params, basic(firstParty));
    expect(first.status).toBe(200);
    const second = await tokenRequest(params, basic(firstParty));
    expect(second.body.error).toBe('invalid_grant');
    expect((await oidc.tokenIntrospection(config, first.body.access_token as string)).active).toBe(false);
  });

  it('a wrong client secret', async () => {
    const user = await t.createUser({});
    const { person, code, auth } = await signedInCode(firstParty, user);
    await person.close();
    const res = await tokenRequest(
      { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: auth.verifier },
      basic({ clientId: firstParty.clientId, clientSecret: `${firstParty.clientSecret}x` }),
    );
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
  });

  it('an expired code', async () => {
    const user = await t.createUser({});
    const { person, code, auth } = await signedInCode(firstParty, user);
    await person.close();
    // The code's lifetime (PORTCULLIS_OIDC_CODE_TTL) ran out: as stored, it expired a second ago.
    await t.app.services.storage.db
      .updateTable('oidcPayloads')
      .set({ expiresAt: new Date(Date.now() - 1000).toISOString() })
      .where('model', '=', 'AuthorizationCode')
      .where('id', '=', createHash('sha256').update(code).digest('hex'))
      .execute();
    const res = await tokenRequest(
      { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: auth.verifier },
      basic(firstParty),
    );
    expect(res.body.error).toBe('invalid_grant');
  });

  it('a suspended user cannot sign in', async () => {
    const user = await t.createUser({});
    await t.app.services.storage.db.updateTable('users').set({ state: 'SUSPENDED' }).where('id', '=', user.id).execute();
    const config = await relyingParty(issuer, firstParty);
    const person = await personBrowser(browser);
    try {
      const attempt = person.authorize(config, { interact: (page) => fillSignIn(page, user) });
      attempt.catch(() => {});
      await person.page.waitForSelector('#error');
      expect(await person.page.textContent('#error')).toContain('Invalid');
      expect(new URL(person.page.url()).pathname).toMatch(/^\/oauth2\/interaction\//);
    } finally {
      await person.close();
    }
  });

  it('a public client without PKCE is sent back with invalid_request', async () => {
    const spa = await registerClient(t, { name: 'SPA', tokenEndpointAuthMethod: 'none', firstParty: true });
    const config = await relyingParty(issuer, spa);
    const person = await personBrowser(browser);
    try {
      const auth = await person.authorize(config, { pkce: false });
      expect(auth.callback.searchParams.get('error')).toBe('invalid_request');
      expect(auth.callback.searchParams.get('error_description')).toMatch(/PKCE/);
    } finally {
      await person.close();
    }
  });
});

describe('consent', () => {
  it('is remembered per person and application, listed, and withdrawable (the grant and its tokens end)', async () => {
    const user = await t.createUser({});
    const config = await relyingParty(issuer, webApp);
    const person = await personBrowser(browser);
    try {
      const first = await person.authorize(config, {
        interact: async (page) => {
          await fillSignIn(page, user);
          await page.waitForSelector('#allow');
          await page.click('#allow');
        },
      });
      const tokens = await oidc.authorizationCodeGrant(config, first.callback, {
        pkceCodeVerifier: first.verifier,
        expectedNonce: first.nonce,
        expectedState: first.state,
      });
      // Asked once: the next authorization goes straight back.
      const second = await person.authorize(config);
      expect(second.callback.searchParams.get('code')).toBeTruthy();

      const login = await t.req('POST', '/v1/auth/login', { json: { username: user.userName, password: user.password } });
      const listed = await t.req('GET', '/v1/oauth-consents', { token: login.body.token });
      expect(listed.body.consents).toEqual([expect.objectContaining({ clientId: webApp.clientId, clientName: 'Web app' })]);
      expect((await t.req('DELETE', `/v1/oauth-consents/${webApp.clientId}`, { token: login.body.token })).status).toBe(200);
      expect((await oidc.tokenIntrospection(config, tokens.access_token)).active).toBe(false);
      expect((await t.req('DELETE', `/v1/oauth-consents/${webApp.clientId}`, { token: login.body.token })).status).toBe(404);
      // Asked again.
      const third = person.authorize(config, { interact: (page) => page.click('#allow') });
      expect((await third).callback.searchParams.get('code')).toBeTruthy();
      const audit = await t.req('GET', `/v1/audit-events?action=oauth.consent_withdrawn&actor=${user.id}`, { apiKey: t.adminKey });
      expect(audit.body.events).toHaveLength(1);
    } finally {
      await person.close();
    }
  });
});

describe('signing keys', () => {
  it('a rotation signs new ID tokens with the new RS256 key; the JWKS publishes it', async () => {
    const user = await t.createUser({});
    await t.app.services.keys.rotate();
    const { config, person, auth } = await signedInCode(firstParty, user);
    try {
      const tokens = await oidc.authorizationCodeGrant(config, auth.callback, {
        pkceCodeVerifier: auth.verifier,
        expectedNonce: auth.nonce,
        expectedState: auth.state,
      });
      const { protectedHeader } = await jwtVerify(tokens.id_token as string, jwks(), { issuer, audience: firstParty.clientId });
      const rsa = t.app.services.keys.jwks().keys.filter((k) => k.alg === 'RS256');
      expect(protectedHeader.kid).toBe(rsa[0]?.kid);
      expect(rsa.length).toBeGreaterThanOrEqual(2);
    } finally {
      await person.close();
    }
  });
});

describe.runIf(PG_URL && REDIS_URL)('two instances on PostgreSQL + Redis', () => {
  it('authorize on one, exchange the code on the other', async () => {
    const t2 = await buildTestApp({ PORTCULLIS_PUBLIC_URL: issuer, PORTCULLIS_OIDC_RESOURCE_SERVERS: RESOURCE }, {}, { peer: t });
    try {
      const user = await t.createUser({ emailVerified: true });
      const { person, code, auth } = await signedInCode(firstParty, user);
      await person.close();
      const res = await fetch(`${t2.url}/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(firstParty) },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          redirect_uri: REDIRECT_URI,
          code_verifier: auth.verifier,
        }).toString(),
      });
      const tokens = (await res.json()) as Record<string, string>;
      expect(res.status, JSON.stringify(tokens)).toBe(200);
      const { payload } = await jwtVerify(tokens.id_token as string, jwks(), { issuer, audience: firstParty.clientId });
      expect(payload).toMatchObject({ sub: user.id, nonce: auth.nonce, at_hash: atHash(tokens.access_token as string) });
      const info = await fetch(`${t2.url}/oauth2/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
      expect(await info.json()).toMatchObject({ sub: user.id, email: user.email });
      // The code is spent for both.
      const again = await tokenRequest(
        { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: auth.verifier },
        basic(firstParty),
      );
      expect(again.body.error).toBe('invalid_grant');
    } finally {
      await t2.close();
    }
  });
});
