import { base64url, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ADMIN, buildTestApp, PG_URL, REDIS_URL, type TestApp, unique } from '../helpers/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ PORTCULLIS_LOGIN_FREE_FAILURES: '3' });
});
afterAll(async () => {
  await t?.close();
});

const login = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  t.req('POST', '/v1/auth/login', { json: body, headers });
const cookieOf = (cookies: string[], name: string) => cookies.find((c) => c.startsWith(`${name}=`));
const cookieValue = (cookies: string[], name: string) =>
  cookieOf(cookies, name)
    ?.split(';')[0]
    ?.slice(name.length + 1);

describe('POST /v1/auth/login', () => {
  it('answers seed 001 exactly as Babel clients send it (json-patch+json, Accept text/plain, x-api-key)', async () => {
    const user = await t.createUser({});
    const key = await t.createApiKey(t.adminId);
    const res = await t.req('POST', '/v1/auth/login', {
      body: JSON.stringify({ username: user.userName, password: user.password }),
      headers: { 'content-type': 'application/json-patch+json', accept: 'text/plain', 'x-api-key': key.secret },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(res.body).toMatchObject({ success: true, code: 0, message: expect.any(String), token: expect.any(String), expiresIn: 900 });
    expect(res.body).toMatchObject({ refreshToken: expect.any(String), mfaTempToken: '', requireResetPassword: false });
    expect(res.body.user).toMatchObject({
      id: user.id,
      name: `users/${user.id}`,
      userName: user.userName,
      state: 'ACTIVE',
      userType: 'USER',
    });
    const [header, payload] = res.body.token
      .split('.')
      .slice(0, 2)
      .map((p: string) => JSON.parse(new TextDecoder().decode(base64url.decode(p))));
    expect(header).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt', kid: expect.any(String) });
    expect(payload).toMatchObject({
      sub: user.id,
      org: t.defaultOrgId,
      sid: expect.any(String),
      iss: t.config.publicUrl,
      aud: 'portcullis',
      // @see issue 16: RFC 9068 §2.2 requires client_id.
      client_id: 'portcullis',
    });
    expect(payload.exp - payload.iat).toBe(900);
    expect(payload.jti).toBeTruthy();
  });

  it('issues and accepts the configured audience and client id only (@see issue 16)', async () => {
    const other = await buildTestApp({ PORTCULLIS_TOKEN_AUDIENCE: 'https://api.example.test', PORTCULLIS_TOKEN_CLIENT_ID: 'console' });
    try {
      const user = await other.createUser({});
      const res = await other.req('POST', '/v1/auth/login', { json: { username: user.userName, password: user.password } });
      const payload = JSON.parse(new TextDecoder().decode(base64url.decode(res.body.token.split('.')[1])));
      expect(payload).toMatchObject({ aud: 'https://api.example.test', client_id: 'console' });
      expect((await other.req('GET', '/v1/auth/user', { token: res.body.token })).status).toBe(200);
    } finally {
      await other.close();
    }
  });

  it('marks token and profile answers uncacheable and sends the security headers on every answer', async () => {
    const user = await t.createUser({});
    const res = await login({ username: user.userName, password: user.password });
    const me = await t.req('GET', '/v1/auth/user', { token: res.body.token });
    const refused = await t.req('GET', '/v1/auth/user', { token: 'not.a.token' });
    for (const r of [res, me, refused]) {
      expect(r.headers.get('cache-control')).toBe('no-store');
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(r.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(r.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
      expect(r.headers.get('x-request-id')).toBeTruthy();
    }
    expect(me.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(refused.status).toBe(401);
    // Public keys may be cached.
    expect((await t.req('GET', '/.well-known/jwks.json')).headers.get('cache-control')).toMatch(/max-age=/);
  });

  it('signs in by email (trimmed, lower-cased) as Bytebase does, and by user name', async () => {
    const user = await t.createUser({});
    const byEmail = await login({ email: `  ${user.email.toUpperCase()} `, password: user.password });
    expect(byEmail.status).toBe(200);
    expect(byEmail.body.user.email).toBe(user.email);
    const byName = await login({ username: user.userName, password: user.password });
    expect(byName.status).toBe(200);
    // a value with @ in username is matched as a user name, not as an email
    const atInName = await login({ username: user.email, password: user.password });
    expect(atInName.status).toBe(401);
  });

  it('parses the body as JSON whatever the content type (curl -d sends form-urlencoded)', async () => {
    const user = await t.createUser({});
    const res = await t.req('POST', '/v1/auth/login', {
      body: JSON.stringify({ email: user.email, password: user.password }),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(200);
    const none = await fetch(`${t.url}/v1/auth/login`, {
      method: 'POST',
      body: JSON.stringify({ email: user.email, password: user.password }),
    });
    expect(none.status).toBe(200);
    const garbage = await t.req('POST', '/v1/auth/login', {
      body: 'email=a&password=b',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(garbage.status).toBe(400);
    expect(garbage.body.error).toBe('request.malformed_body');
  });

  it('gives unknown users, wrong passwords and deleted users the same 401 body', async () => {
    const user = await t.createUser({});
    const gone = await t.createUser({});
    await t.req('DELETE', `/v1/users/${gone.id}`, { apiKey: t.adminKey });
    const wrong = await login({ username: user.userName, password: 'not the password at all' });
    const unknown = await login({ username: unique('ghost'), password: 'not the password at all' });
    const deleted = await login({ username: gone.userName, password: gone.password });
    for (const r of [wrong, unknown, deleted]) {
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    expect(unknown.body).toEqual(wrong.body);
    expect(deleted.body).toEqual(wrong.body);
    expect(wrong.body).toEqual({
      success: false,
      code: 16,
      message: 'Invalid credentials.',
      error: 'auth.invalid_credentials',
      status: 401,
    });
  });

  it('refuses missing fields with 400 and field paths', async () => {
    const res = await login({ username: 'x' });
    expect(res.status).toBe(400);
    expect(res.body.details).toEqual(['body.password']);
    const typed = await login({ username: 'x', password: 'y', web: 'maybe' });
    expect(typed.status).toBe(400);
    expect(typed.body.details).toContain('body.web');
  });

  it('narrows the login to the x-api-key organization, refuses a bad key and ignores a stale Bearer', async () => {
    const org = await t.createOrg();
    const other = await t.createUser({ organizationId: org });
    const key = await t.createApiKey(t.adminId);
    const elsewhere = await login({ username: other.userName, password: other.password }, { 'x-api-key': key.secret });
    expect(elsewhere.status).toBe(401);
    expect(elsewhere.body.error).toBe('auth.invalid_credentials');
    const local = await t.createUser({});
    const badKey = await login({ username: local.userName, password: local.password }, { 'x-api-key': 'pcs_invalid' });
    expect(badKey.status).toBe(401);
    const stale = await login(
      { username: local.userName, password: local.password },
      { authorization: 'Bearer eyJhbGciOiJub25lIn0.e30.x', 'x-api-key': key.secret },
    );
    expect(stale.status).toBe(200);
  });

  it('rehashes a password stored with older argon2 parameters', async () => {
    const user = await t.createUser({});
    const { hash } = await import('@node-rs/argon2');
    const old = await hash(user.password, { memoryCost: 32, timeCost: 2, parallelism: 1, algorithm: 2 });
    await t.app.services.storage.db.updateTable('users').set({ passwordHash: old }).where('id', '=', user.id).execute();
    expect((await login({ username: user.userName, password: user.password })).status).toBe(200);
    const after = await t.app.services.users.lookup.findById(user.id);
    expect(after?.passwordHash).not.toBe(old);
    expect(after?.passwordHash).toContain('m=64,t=1,p=1');
    expect((await login({ username: user.userName, password: user.password })).status).toBe(200);
  });

  it('lets a SERVICE_ACCOUNT sign in with email + service key, never in web mode', async () => {
    const email = `${unique('svc')}@example.test`;
    const created = await t.req('POST', '/v1/users', {
      apiKey: t.adminKey,
      json: { userName: unique('svc'), email, userType: 'SERVICE_ACCOUNT' },
    });
    const ok = await login({ email, password: created.body.serviceKey });
    expect(ok.status).toBe(200);
    const web = await login({ email, password: created.body.serviceKey, web: true });
    expect(web.status).toBe(403);
    expect(web.body.error).toBe('auth.web_login_not_allowed');
    expect(web.cookies).toEqual([]);
  });
});

describe('tokens', () => {
  it('are refused after logout, on the very next request', async () => {
    const user = await t.createUser({});
    const { body } = await login({ username: user.userName, password: user.password });
    expect((await t.req('GET', '/v1/auth/user', { token: body.token })).status).toBe(200);
    const out = await t.req('POST', '/v1/auth/logout', {
      token: body.token,
      body: '{}',
      headers: { 'content-type': 'application/json-patch+json' },
    });
    expect(out.status).toBe(200);
    expect(out.body).toMatchObject({ success: true, code: 0 });
    const after = await t.req('GET', '/v1/auth/user', { token: body.token });
    expect(after.status).toBe(401);
    // The session's refresh token is dead too.
    expect((await t.req('POST', '/v1/auth/refresh', { json: { refreshToken: body.refreshToken } })).status).toBe(401);
  });

  it('logout is idempotent: no credential or an expired one still answers 200 and clears the cookies', async () => {
    for (const headers of [{}, { authorization: 'Bearer not.a.token' }] as Record<string, string>[]) {
      const res = await t.req('POST', '/v1/auth/logout', { headers });
      expect(res.status).toBe(200);
      for (const name of ['access-token', 'refresh-token', 'user']) {
        expect(cookieOf(res.cookies, name)).toMatch(/Expires=Thu, 01 Jan 1970 00:00:00 GMT/);
      }
    }
  });

  it('refuses tampered, foreign, alg:none, HS256-confused and expired tokens', async () => {
    const user = await t.createUser({});
    const { body } = await login({ username: user.userName, password: user.password });
    const [h, p, s] = body.token.split('.');
    const payload = JSON.parse(new TextDecoder().decode(base64url.decode(p)));
    const enc = (o: unknown) => base64url.encode(JSON.stringify(o));
    const altered = `${h}.${enc({ ...payload, roles: ['superadmin'] })}.${s}`;
    const none = `${enc({ alg: 'none', typ: 'at+jwt', kid: JSON.parse(new TextDecoder().decode(base64url.decode(h))).kid })}.${p}.`;
    const jwks = (await t.req('GET', '/.well-known/jwks.json')).body;
    expect(jwks.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' });
    expect(jwks.keys[0]).not.toHaveProperty('d');
    const hs = await new SignJWT(payload)
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: jwks.keys[0].kid })
      .sign(new TextEncoder().encode(JSON.stringify(jwks.keys[0])));
    const { generateKeyPair } = await import('jose');
    const other = await generateKeyPair('EdDSA');
    const foreign = await new SignJWT(payload)
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: jwks.keys[0].kid })
      .sign(other.privateKey);
    const signer = t.app.services.keys.signer();
    const expired = await new SignJWT({ ...payload, exp: Math.floor(Date.now() / 1000) - 10 })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: signer.kid })
      .sign(signer.privateKey);
    const wrongTyp = await new SignJWT(payload).setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid: signer.kid }).sign(signer.privateKey);
    const embedded = await new SignJWT(payload)
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: 'unknown-kid', jwk: other.publicKey as never })
      .sign(other.privateKey)
      .catch(() => `${enc({ alg: 'EdDSA', typ: 'at+jwt', jwk: {} })}.${p}.${s}`);
    for (const bad of [altered, none, hs, foreign, expired, wrongTyp, embedded]) {
      const res = await t.req('GET', '/v1/auth/user', { token: bad });
      expect(res.status, bad.slice(0, 40)).toBe(401);
    }
    // the genuine one still works
    expect((await t.req('GET', '/v1/auth/user', { token: body.token })).status).toBe(200);
  });

  it('keep verifying after a signing-key rotation; new tokens use the new kid', async () => {
    const user = await t.createUser({});
    const before = await login({ username: user.userName, password: user.password });
    const kid = await t.app.services.keys.rotate();
    const after = await login({ username: user.userName, password: user.password });
    expect(JSON.parse(new TextDecoder().decode(base64url.decode(after.body.token.split('.')[0]))).kid).toBe(kid);
    expect((await t.req('GET', '/v1/auth/user', { token: before.body.token })).status).toBe(200);
    expect((await t.req('GET', '/v1/auth/user', { token: after.body.token })).status).toBe(200);
    expect((await t.req('GET', '/.well-known/jwks.json')).body.keys.map((k: any) => k.kid)).toContain(kid);
    const discovery = await t.req('GET', '/.well-known/openid-configuration');
    expect(discovery.body).toMatchObject({ issuer: t.config.publicUrl, jwks_uri: `${t.config.publicUrl}/.well-known/jwks.json` });
    // @see issue 16 and 17: discovery is the OpenID Provider's and says only what exists.
    expect(discovery.body).toMatchObject({
      authorization_endpoint: `${t.config.publicUrl}/oauth2/authorize`,
      token_endpoint: `${t.config.publicUrl}/oauth2/token`,
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
    });
    expect(discovery.body.id_token_signing_alg_values_supported).toContain('RS256');
    for (const absent of ['registration_endpoint', 'device_authorization_endpoint']) {
      expect(discovery.body, absent).not.toHaveProperty(absent);
    }
    expect(discovery.body.grant_types_supported).not.toContain('implicit');
    expect(discovery.body.grant_types_supported).not.toContain('password');
  });
});

describe('refresh', () => {
  it('rotates, and a reused refresh token revokes the whole session', async () => {
    const user = await t.createUser({});
    const first = await login({ username: user.userName, password: user.password });
    const r1 = await t.req('POST', '/v1/auth/refresh', { json: { refreshToken: first.body.refreshToken } });
    expect(r1.status).toBe(200);
    expect(r1.body.refreshToken).not.toBe(first.body.refreshToken);
    expect((await t.req('GET', '/v1/auth/user', { token: r1.body.token })).status).toBe(200);
    const reuse = await t.req('POST', '/v1/auth/refresh', { json: { refreshToken: first.body.refreshToken } });
    expect(reuse.status).toBe(401);
    expect((await t.req('GET', '/v1/auth/user', { token: r1.body.token })).status).toBe(401);
    expect((await t.req('POST', '/v1/auth/refresh', { json: { refreshToken: r1.body.refreshToken } })).status).toBe(401);
    const audit = await t.req('GET', `/v1/audit-events?action=session.refresh_reused&actor=${user.id}`, { apiKey: t.adminKey });
    expect(audit.body.events.map((e: any) => e.actorId)).toEqual([user.id]);
  });

  it('refuses unknown and missing refresh tokens', async () => {
    expect((await t.req('POST', '/v1/auth/refresh', { json: { refreshToken: 'nope' } })).status).toBe(401);
    expect((await t.req('POST', '/v1/auth/refresh', { json: {} })).status).toBe(401);
  });
});

describe('web mode (Bytebase)', () => {
  it('sets access-token, refresh-token and user cookies and carries no token in the body', async () => {
    const user = await t.createUser({});
    const res = await login({ email: user.email, password: user.password, web: true });
    expect(res.status).toBe(200);
    expect(res.body.token).toBeUndefined();
    expect(res.body.refreshToken).toBeUndefined();
    const access = cookieOf(res.cookies, 'access-token')!;
    expect(access).toMatch(/HttpOnly/);
    expect(access).toMatch(/Path=\//);
    expect(access).toMatch(/SameSite=Lax/);
    expect(access).not.toMatch(/Secure/);
    expect(cookieOf(res.cookies, 'refresh-token')).toMatch(/HttpOnly/);
    const userCookie = cookieOf(res.cookies, 'user')!;
    expect(userCookie).not.toMatch(/HttpOnly/);
    expect(cookieValue(res.cookies, 'user')).toBe(`users/${user.id}`);

    const cookie = `access-token=${cookieValue(res.cookies, 'access-token')}; refresh-token=${cookieValue(res.cookies, 'refresh-token')}`;
    expect((await t.req('GET', '/v1/auth/user', { headers: { cookie } })).status).toBe(200);

    // Bearer is read first, then the cookie: a valid Bearer of another user wins.
    const other = await t.createUser({});
    const otherLogin = await login({ username: other.userName, password: other.password });
    const both = await t.req('GET', '/v1/auth/user', { headers: { cookie, authorization: `Bearer ${otherLogin.body.token}` } });
    expect(both.body.user.id).toBe(other.id);

    // refresh by cookie with {} answers new cookies
    const refreshed = await t.req('POST', '/v1/auth/refresh', { json: {}, headers: { cookie } });
    expect(refreshed.status).toBe(200);
    expect(cookieValue(refreshed.cookies, 'refresh-token')).toBeTruthy();
    expect(cookieValue(refreshed.cookies, 'refresh-token')).not.toBe(cookieValue(res.cookies, 'refresh-token'));
    expect(refreshed.body.token).toBeUndefined();

    // logout by cookie clears them and revokes
    const newCookie = `access-token=${cookieValue(refreshed.cookies, 'access-token')}`;
    const out = await t.req('POST', '/v1/auth/logout', { json: {}, headers: { cookie: newCookie } });
    expect(out.status).toBe(200);
    expect(cookieOf(out.cookies, 'access-token')).toMatch(/Expires=Thu, 01 Jan 1970 00:00:00 GMT/);
    expect((await t.req('GET', '/v1/auth/user', { headers: { cookie: newCookie } })).status).toBe(401);
  });

  it('refuses cookie-authenticated writes from another site', async () => {
    const user = await t.createUser({});
    const res = await login({ username: user.userName, password: user.password, web: true });
    const cookie = `access-token=${cookieValue(res.cookies, 'access-token')}`;
    const json = { user: { title: 'forged' } };
    const crossSite = await t.req('POST', '/v1/auth/user', { json, headers: { cookie, 'sec-fetch-site': 'cross-site' } });
    expect(crossSite.status).toBe(403);
    expect(crossSite.body.error).toBe('request.cross_site');
    const evilOrigin = await t.req('POST', '/v1/auth/user', { json, headers: { cookie, origin: 'https://evil.example' } });
    expect(evilOrigin.status).toBe(403);
    const form = await t.req('POST', '/v1/auth/user', {
      body: 'user[title]=x',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(415);
    const sameOrigin = await t.req('POST', '/v1/auth/user', { json, headers: { cookie, origin: new URL(t.config.publicUrl).origin } });
    expect(sameOrigin.status).toBe(200);
    const loginCsrf = await login({ username: user.userName, password: user.password, web: true }, { 'sec-fetch-site': 'cross-site' });
    expect(loginCsrf.status).toBe(403);
    // reads are not writes
    expect((await t.req('GET', '/v1/auth/user', { headers: { cookie, 'sec-fetch-site': 'cross-site' } })).status).toBe(200);
  });
});

describe('GET/POST /v1/auth/user (seed 001)', () => {
  it('returns the user with roles, masked API keys and settings, by token or by API key', async () => {
    const user = await t.createUser({});
    const key = await t.createApiKey(user.id);
    const { body } = await login({ username: user.userName, password: user.password });
    const res = await t.req('GET', '/v1/auth/user?request=anything', { token: body.token, headers: { accept: 'text/plain' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: true, code: 0, message: expect.any(String) });
    const u = res.body.user;
    for (const field of [
      'id',
      'userName',
      'email',
      'phoneNumber',
      'title',
      'firstName',
      'lastName',
      'department',
      'birthDate',
      'createdAt',
      'updatedAt',
      'lastDismissMessages',
      'lastLogIn',
      'rank',
      'image',
      'address',
      'postalCode',
      'region',
      'city',
      'country',
      'countryCode',
      'mobile',
      'notes',
      'customerId',
      'roles',
      'apiKeys',
      'settings',
      'name',
      'state',
      'userType',
      'mfaEnabled',
      'groups',
      'profile',
    ]) {
      expect(u, field).toHaveProperty(field);
    }
    expect(u.profile).toMatchObject({ lastLoginTime: expect.any(String), lastChangePasswordTime: expect.any(String) });
    expect(u.apiKeys).toHaveLength(1);
    expect(u.apiKeys[0]).toMatchObject({ id: key.id, key: key.key, ownerId: user.id, revoked: false, permissions: expect.any(Number) });
    expect(u.apiKeys[0].clientSecret).not.toBe(key.secret);
    expect(res.text).not.toContain(key.secret);
    expect(u.settings[0]).toMatchObject({
      id: expect.any(Number),
      category: expect.any(String),
      group: expect.any(String),
      name: expect.any(String),
      value: expect.any(String),
      readOnly: expect.any(Boolean),
      userId: user.id,
    });
    const byKey = await t.req('GET', '/v1/auth/user', { apiKey: key.secret });
    expect(byKey.body.user.id).toBe(user.id);
  });

  it('accepts the whole user object back: writable fields change, read-only ones are ignored', async () => {
    const user = await t.createUser({});
    const { body } = await login({ username: user.userName, password: user.password });
    const read = (await t.req('GET', '/v1/auth/user', { token: body.token })).body.user;
    const sent = {
      ...read,
      id: 'someone-else',
      userName: 'renamed',
      roles: ['superadmin'],
      state: 'DELETED',
      createdAt: '2000-01-01T00:00:00Z',
      firstName: 'Grace',
      city: 'Arlington',
      rank: 3,
      phoneNumber: '+15551234567',
      settings: read.settings.map((s: any) => (s.name === 'timezone' ? { ...s, value: 'Europe/Paris' } : s)),
      unknownField: 42,
    };
    const res = await t.req('POST', '/v1/auth/user', {
      body: JSON.stringify({ user: sent }),
      token: body.token,
      headers: { 'content-type': 'application/json-patch+json', accept: 'text/plain' },
    });
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({
      id: user.id,
      userName: user.userName,
      roles: ['member'],
      state: 'ACTIVE',
      firstName: 'Grace',
      city: 'Arlington',
      rank: 3,
      phoneNumber: '+15551234567',
    });
    expect(res.body.user.settings.find((s: any) => s.name === 'timezone').value).toBe('Europe/Paris');
    expect(res.body.user.createdAt).toBe(read.createdAt);
  });

  it('reflects changes made elsewhere at once (the cached view is dropped on every change)', async () => {
    const user = await t.createUser({});
    const { body } = await login({ username: user.userName, password: user.password });
    expect((await t.req('GET', '/v1/auth/user', { token: body.token })).body.user.title).toBeNull();
    await t.req('PATCH', `/v1/users/${user.id}`, { apiKey: t.adminKey, json: { title: 'Staff engineer' } });
    expect((await t.req('GET', '/v1/auth/user', { token: body.token })).body.user.title).toBe('Staff engineer');
    const created = await t.req('POST', '/v1/api-keys', { token: body.token, json: { name: 'mine' } });
    const keys = (await t.req('GET', '/v1/auth/user', { token: body.token })).body.user.apiKeys;
    expect(keys.map((k: any) => k.id)).toContain(created.body.id);
    await t.req('DELETE', `/v1/api-keys/${created.body.id}`, { token: body.token });
    const after = (await t.req('GET', '/v1/auth/user', { token: body.token })).body.user.apiKeys;
    expect(after.find((k: any) => k.id === created.body.id).revoked).toBe(true);
  });

  it('shares one read among concurrent misses, and a change during that read is not cached', async () => {
    const user = await t.createUser({});
    const { body } = await login({ username: user.userName, password: user.password });
    const { account, users } = t.app.services;
    const read = users.lookup.findById.bind(users.lookup);
    const findById = vi.spyOn(users.lookup, 'findById');
    try {
      const burst = await Promise.all(Array.from({ length: 20 }, () => t.req('GET', '/v1/auth/user', { token: body.token })));
      expect(burst.map((r) => r.status)).toEqual(burst.map(() => 200));
      expect(findById.mock.calls.filter(([id]) => id === user.id)).toHaveLength(1);

      // A change lands while a read is in flight: the read is held just after it read the user, the
      // user changes (which drops the cached view on every instance, this one's echo included), then
      // the read finishes. Its caller gets what it read; the cache must not keep it.
      const base = t.context(t.defaultOrgId, ['member']);
      const ctx = { ...base, principal: { ...base.principal!, userId: user.id } };
      let reached!: () => void;
      let release!: () => void;
      const readDone = new Promise<void>((resolve) => (reached = resolve));
      const held = new Promise<void>((resolve) => (release = resolve));
      findById.mockImplementationOnce(async (id) => {
        const found = await read(id);
        reached();
        await held;
        return found;
      });
      account.invalidate([user.id]);
      const during = account.get(ctx);
      await readDone;
      const patched = await t.req('PATCH', `/v1/users/${user.id}`, { apiKey: t.adminKey, json: { title: 'Changed mid-read' } });
      expect(patched.status, patched.text).toBe(200);
      release();
      expect((await during).user.title).toBeNull();
      // Straight after, with no I/O in between (nothing else could drop a wrongly cached view):
      expect((await account.get(ctx)).user.title).toBe('Changed mid-read');
      expect((await t.req('GET', '/v1/auth/user', { token: body.token })).body.user.title).toBe('Changed mid-read');
    } finally {
      findById.mockRestore();
    }
  });

  it('refuses changing a read-only setting, changing nothing', async () => {
    const user = await t.createUser({});
    const { body } = await login({ username: user.userName, password: user.password });
    const read = (await t.req('GET', '/v1/auth/user', { token: body.token })).body.user;
    const ro = read.settings.find((s: any) => s.readOnly);
    const res = await t.req('POST', '/v1/auth/user', {
      json: { user: { firstName: 'Changed', settings: [{ ...ro, value: 'mine now' }] } },
      token: body.token,
    });
    expect(res.status).toBe(400);
    expect(res.body.details[0]).toMatch(/^body\.user\.settings\.0/);
    const again = (await t.req('GET', '/v1/auth/user', { token: body.token })).body.user;
    expect(again.firstName).toBeNull();
  });
});

describe('password change and forced reset', () => {
  it('a user marked requireResetPassword gets a token that can only change the password', async () => {
    const user = await t.createUser({});
    await t.req('PATCH', `/v1/users/${user.id}`, { apiKey: t.adminKey, json: { requireResetPassword: true } });
    const res = await login({ username: user.userName, password: user.password });
    expect(res.status).toBe(200);
    expect(res.body.requireResetPassword).toBe(true);
    const blocked = await t.req('POST', '/v1/api-keys', { token: res.body.token, json: { name: 'x' } });
    expect(blocked.status).toBe(403);
    expect(blocked.body.error).toBe('auth.password_change_required');
    expect((await t.req('GET', '/v1/auth/user', { token: res.body.token })).status).toBe(200);
    const weak = await t.req('POST', '/v1/auth/password', {
      token: res.body.token,
      json: { currentPassword: user.password, newPassword: 'password1' },
    });
    expect(weak.status).toBe(400);
    expect(weak.body.error).toBe('password.policy_violation');
    const changed = await t.req('POST', '/v1/auth/password', {
      token: res.body.token,
      json: { currentPassword: user.password, newPassword: 'a brand new passphrase' },
    });
    expect(changed.status).toBe(200);
    expect(changed.body.requireResetPassword).toBe(false);
    expect((await t.req('POST', '/v1/api-keys', { token: changed.body.token, json: { name: 'x' } })).status).toBe(201);
    // the old session is gone, the old password too
    expect((await t.req('GET', '/v1/auth/user', { token: res.body.token })).status).toBe(401);
    expect((await login({ username: user.userName, password: user.password })).status).toBe(401);
    expect((await login({ username: user.userName, password: 'a brand new passphrase' })).body.requireResetPassword).toBe(false);
  });

  it('the organization can require a reset at first sign-in', async () => {
    const org = await t.createOrg();
    await t.req('PATCH', `/v1/organizations/${org}`, { apiKey: t.adminKey, json: { policy: { requireResetOnFirstLogin: true } } });
    const user = await t.createUser({ organizationId: org });
    expect((await login({ username: user.userName, password: user.password })).body.requireResetPassword).toBe(true);
  });

  it('refuses a wrong current password', async () => {
    const user = await t.createUser({});
    const { body } = await login({ username: user.userName, password: user.password });
    const res = await t.req('POST', '/v1/auth/password', {
      token: body.token,
      json: { currentPassword: 'wrong wrong wrong', newPassword: 'another good passphrase' },
    });
    expect(res.status).toBe(401);
  });
});

describe('throttling', () => {
  it('backs off an account after consecutive failures: 429 with Retry-After, even for the right password', async () => {
    const user = await t.createUser({});
    for (let i = 0; i < 3; i++) expect((await login({ username: user.userName, password: 'wrong password here' })).status).toBe(401);
    const fourth = await login({ username: user.userName, password: 'wrong password here' });
    expect(fourth.status).toBe(401);
    const throttled = await login({ username: user.userName, password: user.password });
    expect(throttled.status).toBe(429);
    expect(throttled.body).toMatchObject({ success: false, error: 'rate.limited', status: 429, code: 8 });
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(throttled.body.user).toBeUndefined();
    await new Promise((r) => setTimeout(r, Number(throttled.headers.get('retry-after')) * 1000 + 100));
    const ok = await login({ username: user.userName, password: user.password });
    expect(ok.status).toBe(200);
    // success reset the counter
    expect((await login({ username: user.userName, password: 'wrong password here' })).status).toBe(401);
    const events = await t.req('GET', '/v1/audit-events?action=session.throttle_started&pageSize=100', { apiKey: t.adminKey });
    expect(events.body.events.filter((e: any) => e.targetId === user.id)).toHaveLength(1);
  });

  it('throttles unknown names alike', async () => {
    const ghost = unique('ghost');
    for (let i = 0; i < 4; i++) await login({ username: ghost, password: 'whatever whatever' });
    expect((await login({ username: ghost, password: 'whatever whatever' })).status).toBe(429);
  });

  it('caps login attempts per address', async () => {
    const t2 = await buildTestApp({ PORTCULLIS_LOGIN_RATE_PER_IP: '3' });
    try {
      const statuses = [];
      for (let i = 0; i < 4; i++)
        statuses.push((await t2.req('POST', '/v1/auth/login', { json: { username: unique('n'), password: 'x'.repeat(10) } })).status);
      expect(statuses).toEqual([401, 401, 401, 429]);
    } finally {
      await t2.close();
    }
  });
});

describe('audit', () => {
  it('records sign-in success and failure with the reason kept internal', async () => {
    const user = await t.createUser({});
    await login({ username: user.userName, password: 'wrong password here' });
    await login({ username: user.userName, password: user.password });
    const failed = await t.req('GET', `/v1/audit-events?action=session.login_failed`, { apiKey: t.adminKey });
    expect(failed.body.events.find((e: any) => e.targetId === user.id)?.data.reason).toBe('wrong_password');
    const ok = await t.req('GET', `/v1/audit-events?action=session.login_succeeded&actor=${user.id}`, { apiKey: t.adminKey });
    expect(ok.body.events).toHaveLength(1);
    expect(t.logs()).not.toContain(user.password);
  });
});

describe.runIf(PG_URL && REDIS_URL)('two instances on PostgreSQL + Redis', () => {
  it('a logout on one instance is honoured by the other within 1 s', async () => {
    const t2 = await buildTestApp({ PORTCULLIS_LOGIN_FREE_FAILURES: '3' }, {}, { peer: t });
    try {
      const user = await t.createUser({});
      const { body } = await login({ username: user.userName, password: user.password });
      // warm the other instance's cache
      expect((await t2.req('GET', '/v1/auth/user', { token: body.token })).status).toBe(200);
      expect((await t.req('POST', '/v1/auth/logout', { token: body.token })).status).toBe(200);
      const deadline = Date.now() + 1000;
      let status = 200;
      while (Date.now() < deadline && status === 200) {
        status = (await t2.req('GET', '/v1/auth/user', { token: body.token })).status;
        if (status === 200) await new Promise((r) => setTimeout(r, 20));
      }
      expect(status).toBe(401);
      // throttling counts across both instances
      const name = unique('both');
      for (let i = 0; i < 2; i++) await t.req('POST', '/v1/auth/login', { json: { username: name, password: 'nope nope nope' } });
      for (let i = 0; i < 2; i++) await t2.req('POST', '/v1/auth/login', { json: { username: name, password: 'nope nope nope' } });
      expect((await t.req('POST', '/v1/auth/login', { json: { username: name, password: 'nope nope nope' } })).status).toBe(429);
    } finally {
      await t2.close();
    }
  });
});

describe.runIf(PG_URL && REDIS_URL)('a signing-key rotation on one instance', () => {
  // @see issue 16: `keys rotate` used to change nothing on running servers until they restarted.
  it('reaches the other at once: its JWKS publishes the new key and its new tokens are signed with it', async () => {
    const t2 = await buildTestApp({}, {}, { peer: t });
    try {
      const kid = await t.app.services.keys.rotate();
      const deadline = Date.now() + 2000;
      let kids: string[] = [];
      while (Date.now() < deadline && !kids.includes(kid)) {
        kids = (await t2.req('GET', '/.well-known/jwks.json')).body.keys.map((k: { kid: string }) => k.kid);
        if (!kids.includes(kid)) await new Promise((r) => setTimeout(r, 20));
      }
      expect(kids).toContain(kid);
      const user = await t2.createUser({});
      const res = await t2.req('POST', '/v1/auth/login', { json: { username: user.userName, password: user.password } });
      expect(JSON.parse(new TextDecoder().decode(base64url.decode(res.body.token.split('.')[0]))).kid).toBe(kid);
    } finally {
      await t2.close();
    }
  });
});

describe('real argon2id', () => {
  it('hashes with the production parameters and verifies', async () => {
    const { createPasswordHasher } = await import('../../src/crypto/password.js');
    const hasher = createPasswordHasher({ memoryKiB: 19456, timeCost: 2, parallelism: 1, concurrency: 2 });
    const h = await hasher.hash('correct horse battery staple');
    expect(h).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await hasher.verify(h, 'correct horse battery staple')).toBe(true);
    expect(await hasher.verify(h, 'wrong')).toBe(false);
    expect(hasher.needsRehash(h)).toBe(false);
    expect(await hasher.verify('garbage', 'x')).toBe(false);
    expect(ADMIN.password).toBeTruthy();
  });
});
