import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../src/crypto/totp/totp.js';
import { startTestOAuth2Server, type TestOAuth2Server } from '../helpers/oauth2-server.js';
import { startTestOp, type TestOp } from '../helpers/oidc-op.js';
import { buildTestApp, type TestApp, type TestResponse, unique } from '../helpers/test-app.js';

const PUBLIC_URL = 'http://portcullis.test';
const REDIRECT_URI = `${PUBLIC_URL}/oauth/callback`;

let t: TestApp;
let op: TestOp;
let oauth2: TestOAuth2Server;
const responses: string[] = [];

beforeAll(async () => {
  op = await startTestOp(REDIRECT_URI);
  oauth2 = await startTestOAuth2Server(REDIRECT_URI);
  t = await buildTestApp({ PORTCULLIS_IDP_ALLOW_PRIVATE_HOSTS: 'true', PORTCULLIS_PUBLIC_URL: PUBLIC_URL });
});
afterAll(async () => {
  await t?.close();
  await op?.close();
  await oauth2?.close();
});

const keep = <T extends TestResponse>(res: T): T => {
  responses.push(res.text);
  return res;
};

async function createOidcIdp(overrides: Record<string, unknown> = {}): Promise<string> {
  const id = unique('oidc-').toLowerCase();
  const res = keep(
    await t.req('POST', `/v1/idps?identityProviderId=${id}`, {
      apiKey: t.adminKey,
      json: {
        title: 'Test OP',
        type: 'OIDC',
        config: {
          oidcConfig: { issuer: op.issuer, clientId: op.clientId, clientSecret: op.clientSecret, scopes: ['openid', 'email', 'profile'] },
        },
        ...overrides,
      },
    }),
  );
  expect(res.status, res.text).toBe(201);
  return id;
}

function account(claims: Record<string, unknown> = {}): { sub: string; email: string } {
  const sub = unique('sub-');
  const email = `${sub}@example.test`;
  op.accounts.set(sub, { email, email_verified: true, name: 'Ada Lovelace', given_name: 'Ada', family_name: 'Lovelace', ...claims });
  return { sub, email: (claims.email as string | undefined) ?? email };
}

const idpLogin = async (idp: string, code: string, context = 'oidcContext') =>
  keep(await t.req('POST', '/v1/auth/login', { json: { idpName: `idps/${idp}`, idpContext: { [context]: { code } } } }));

async function failures(reason: string): Promise<number> {
  const rows = await t.app.services.storage.db.selectFrom('auditEvents').select('data').where('action', '=', 'idp.login_failed').execute();
  return rows.filter((r) => JSON.parse(r.data).reason?.startsWith(reason)).length;
}

const expectRefused = (res: TestResponse, status = 401, error = 'auth.invalid_credentials') => {
  expect(res.status, res.text).toBe(status);
  expect(res.body).toMatchObject({ success: false, error, status });
};

describe('identity provider administration', () => {
  it('creates, reads, lists, updates and deletes providers; secrets are write-only and sealed at rest', async () => {
    const id = await createOidcIdp();
    const got = keep(await t.req('GET', `/v1/idps/${id}`, { apiKey: t.adminKey }));
    expect(got.body).toMatchObject({
      name: `idps/${id}`,
      id,
      type: 'OIDC',
      allowJitProvisioning: true,
      redirectUri: REDIRECT_URI,
      config: { oidcConfig: { issuer: op.issuer, clientId: op.clientId, clientSecretSet: true } },
    });
    expect(got.body.config.oidcConfig.clientSecret).toBeUndefined();

    const row = await t.app.services.storage.db.selectFrom('identityProviders').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.clientSecretSealed).not.toContain(op.clientSecret);
    expect(row.config).not.toContain(op.clientSecret);

    const newSecret = `rotated-${unique('s')}`;
    const patched = keep(
      await t.req('PATCH', `/v1/idps/${id}`, {
        apiKey: t.adminKey,
        json: { title: 'Renamed', domain: 'Example.TEST', config: { oidcConfig: { clientSecret: newSecret } } },
      }),
    );
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ title: 'Renamed', domain: 'example.test', config: { oidcConfig: { clientId: op.clientId } } });
    expect(patched.text).not.toContain(newSecret);
    const typeChange = await t.req('PATCH', `/v1/idps/${id}`, {
      apiKey: t.adminKey,
      json: { config: { oauth2Config: { clientId: 'x' } } },
    });
    expect(typeChange.status).toBe(400);

    const full = keep(await t.req('GET', '/v1/idps', { apiKey: t.adminKey }));
    expect(full.body.identityProviders.find((p: any) => p.id === id)).toMatchObject({ title: 'Renamed', config: expect.any(Object) });
    const pub = keep(await t.req('GET', '/v1/idps?domain=example.test'));
    expect(pub.status).toBe(200);
    const entry = pub.body.identityProviders.find((p: any) => p.id === id);
    expect(entry).toEqual({ name: `idps/${id}`, id, title: 'Renamed', type: 'OIDC', domain: 'example.test' });

    const dup = await t.req('POST', `/v1/idps`, {
      apiKey: t.adminKey,
      json: {
        identityProviderId: id,
        title: 'x',
        type: 'OIDC',
        config: { oidcConfig: { issuer: op.issuer, clientId: 'c', clientSecret: 's' } },
      },
    });
    expect(dup.status).toBe(409);

    const del = await t.req('DELETE', `/v1/idps/${id}`, { apiKey: t.adminKey });
    expect(del.status).toBe(200);
    expect((await t.req('GET', `/v1/idps/${id}`, { apiKey: t.adminKey })).status).toBe(404);
  });

  it('refuses bad input and callers without idps:write, and hides other organizations', async () => {
    const mismatched = await t.req('POST', '/v1/idps', {
      apiKey: t.adminKey,
      json: {
        title: 'x',
        type: 'OIDC',
        config: { oauth2Config: { authUrl: 'https://a', tokenUrl: 'https://b', userInfoUrl: 'https://c' } },
      },
    });
    expect(mismatched.status).toBe(400);
    const badUrl = await t.req('POST', '/v1/idps', {
      apiKey: t.adminKey,
      json: { title: 'x', type: 'OIDC', config: { oidcConfig: { issuer: 'ftp://op.example', clientId: 'c', clientSecret: 's' } } },
    });
    expect(badUrl.status).toBe(400);
    expect(badUrl.body.details).toEqual(['body.config.oidcConfig.issuer']);
    const badId = await t.req('POST', '/v1/idps?identityProviderId=Not_Valid', {
      apiKey: t.adminKey,
      json: { title: 'x', type: 'OIDC', config: { oidcConfig: { issuer: op.issuer, clientId: 'c', clientSecret: 's' } } },
    });
    expect(badId.status).toBe(400);

    const member = await t.createUser({ roles: ['member'] });
    const memberKey = await t.createApiKey(member.id);
    const denied = await t.req('POST', '/v1/idps', {
      apiKey: memberKey.secret,
      json: { title: 'x', type: 'OIDC', config: { oidcConfig: { issuer: op.issuer, clientId: 'c', clientSecret: 's' } } },
    });
    expect(denied.status).toBe(403);

    const id = await createOidcIdp();
    const org = await t.createOrg();
    const otherAdmin = await t.createUser({ roles: ['admin'], organizationId: org });
    const otherKey = await t.createApiKey(otherAdmin.id);
    expect((await t.req('GET', `/v1/idps/${id}`, { apiKey: otherKey.secret })).status).toBe(404);
    expect((await t.req('DELETE', `/v1/idps/${id}`, { apiKey: otherKey.secret })).status).toBe(404);
    const theirs = await t.req('GET', '/v1/idps', { apiKey: otherKey.secret });
    expect(theirs.body.identityProviders.map((p: any) => p.id)).not.toContain(id);
  });
});

describe('OIDC code login (POST /v1/auth/login with idpContext.oidcContext)', () => {
  let idp: string;
  beforeAll(async () => {
    idp = await createOidcIdp();
  });

  it('creates a user just in time, then maps the second sign-in to the same user', async () => {
    const a = account();
    const first = await idpLogin(idp, await op.code(a.sub));
    expect(first.status, first.text).toBe(200);
    expect(first.body).toMatchObject({ success: true, code: 0, token: expect.any(String), refreshToken: expect.any(String) });
    expect(first.body.user).toMatchObject({
      email: a.email,
      emailVerified: true,
      firstName: 'Ada',
      lastName: 'Lovelace',
      userType: 'USER',
      roles: ['member'],
      profile: { source: `idps/${idp}` },
    });
    const me = await t.req('GET', '/v1/auth/user', { token: first.body.token });
    expect(me.body.user.id).toBe(first.body.user.id);

    const second = await idpLogin(idp, await op.code(a.sub));
    expect(second.status).toBe(200);
    expect(second.body.user.id).toBe(first.body.user.id);
  });

  it('links an existing user by email when the provider says it is verified', async () => {
    const existing = await t.createUser({});
    const a = account({ email: existing.email, email_verified: true });
    const res = await idpLogin(idp, await op.code(a.sub));
    expect(res.status, res.text).toBe(200);
    expect(res.body.user.id).toBe(existing.id);
  });

  it('refuses to link by an unverified email', async () => {
    const existing = await t.createUser({});
    const a = account({ email: existing.email, email_verified: false });
    const before = await failures('email_not_verified');
    const res = await idpLogin(idp, await op.code(a.sub));
    expectRefused(res);
    expect(await failures('email_not_verified')).toBe(before + 1);
    const links = await t.app.services.storage.db.selectFrom('externalIdentities').selectAll().where('subject', '=', a.sub).execute();
    expect(links).toEqual([]);
  });

  it('refuses a replayed code without leaking the provider error', async () => {
    const a = account();
    const code = await op.code(a.sub);
    expect((await idpLogin(idp, code)).status).toBe(200);
    const before = await failures('provider_error:invalid_grant');
    const replay = await idpLogin(idp, code);
    expectRefused(replay);
    expect(replay.body.message).toBe('Invalid credentials.');
    expect(replay.text).not.toMatch(/invalid_grant|grant request is invalid/);
    expect(await failures('provider_error:invalid_grant')).toBe(before + 1);
  });

  it('refuses an id_token signed by another key, with a wrong audience, a wrong issuer, or expired', async () => {
    const cases: [string, NonNullable<TestOp['tamper']>, RegExp][] = [
      ['forged', { forge: true }, /signature/i],
      ['audience', { claims: (c) => void (c.aud = 'someone-else') }, /aud/],
      ['issuer', { claims: (c) => void (c.iss = 'https://evil.example') }, /iss/],
      [
        'expired',
        {
          claims: (c) => {
            const now = Math.floor(Date.now() / 1000);
            c.iat = now - 7200;
            c.exp = now - 3600;
          },
        },
        /exp/,
      ],
    ];
    try {
      for (const [name, tamper, expected] of cases) {
        const a = account();
        const code = await op.code(a.sub);
        op.tamper = tamper;
        const res = await idpLogin(idp, code);
        op.tamper = undefined;
        expect(res.status, `${name}: ${res.text}`).toBe(401);
        expect(res.body.error).toBe('auth.invalid_credentials');
        expect(await t.app.services.users.lookup.findByEmail(a.email), name).toBeUndefined();
        const last = await t.app.services.storage.db
          .selectFrom('auditEvents')
          .select('data')
          .where('action', '=', 'idp.login_failed')
          .orderBy('id', 'desc')
          .executeTakeFirstOrThrow();
        expect(JSON.parse(last.data).reason, name).toMatch(expected);
      }
    } finally {
      op.tamper = undefined;
    }
    // The untampered path still works afterwards.
    const ok = account();
    expect((await idpLogin(idp, await op.code(ok.sub))).status).toBe(200);
  });

  it('answers an unknown provider with 401 and a malformed one with 400', async () => {
    const before = await failures('unknown_idp');
    const unknown = await idpLogin('no-such-idp', 'whatever');
    expectRefused(unknown);
    expect(await failures('unknown_idp')).toBe(before + 1);
    const malformed = keep(
      await t.req('POST', '/v1/auth/login', { json: { idpName: 'nope', idpContext: { oidcContext: { code: 'x' } } } }),
    );
    expect(malformed.status).toBe(400);
    const noCode = keep(await t.req('POST', '/v1/auth/login', { json: { idpName: `idps/${idp}`, idpContext: {} } }));
    expect(noCode.status).toBe(400);
  });

  it('refuses new users when JIT provisioning is off', async () => {
    const closed = await createOidcIdp({ allowJitProvisioning: false });
    const a = account();
    const before = await failures('jit_disabled');
    expectRefused(await idpLogin(closed, await op.code(a.sub)));
    expect(await failures('jit_disabled')).toBe(before + 1);
  });

  it('goes through the MFA step after the provider vouched for the user', async () => {
    const a = account();
    const first = await idpLogin(idp, await op.code(a.sub));
    expect(first.status, first.text).toBe(200);
    // The provisioned user enrols TOTP, as a person would.
    const token = first.body.token as string;
    const started = await t.req('POST', '/v1/auth/user', { token, json: { regenerateTempMfaSecret: true } });
    const secret = started.body.user.tempOtpSecret as string;
    const confirmed = await t.req('POST', '/v1/auth/user', {
      token,
      json: { otpCode: totpCode(secret, Date.now()), user: { mfaEnabled: true } },
    });
    expect(confirmed.status, confirmed.text).toBe(200);
    const res = await idpLogin(idp, await op.code(a.sub));
    expect(res.status).toBe(200);
    expect(res.body.mfaTempToken).toMatch(/\S{16,}/);
    expect(res.body.token).toBeUndefined();
  });
});

describe('OAuth2 code login (idpContext.oauth2Context)', () => {
  let idp: string;
  beforeAll(async () => {
    idp = unique('oauth-').toLowerCase();
    const res = keep(
      await t.req('POST', '/v1/idps', {
        apiKey: t.adminKey,
        json: {
          identityProviderId: idp,
          title: 'Test OAuth2',
          type: 'OAUTH2',
          config: {
            oauth2Config: {
              authUrl: `${oauth2.url}/authorize`,
              tokenUrl: `${oauth2.url}/token`,
              userInfoUrl: `${oauth2.url}/userinfo`,
              clientId: oauth2.clientId,
              clientSecret: oauth2.clientSecret,
              scopes: ['user:email'],
              fieldMapping: { identifier: 'login', displayName: 'name', email: 'mail', emailVerified: 'verified' },
            },
          },
        },
      }),
    );
    expect(res.status, res.text).toBe(201);
    expect(res.text).not.toContain(oauth2.clientSecret);
  });

  it('maps userinfo through the field mapping, provisions, and maps the second sign-in to the same user', async () => {
    const login = unique('octo');
    const info = { login, id: 42, name: 'Octo Cat', mail: `${login}@example.test`, verified: true };
    const first = await idpLogin(idp, oauth2.issueCode(info), 'oauth2Context');
    expect(first.status, first.text).toBe(200);
    expect(first.body.user).toMatchObject({ email: `${login}@example.test`, firstName: 'Octo Cat', profile: { source: `idps/${idp}` } });
    const second = await idpLogin(idp, oauth2.issueCode(info), 'oauth2Context');
    expect(second.body.user.id).toBe(first.body.user.id);
  });

  it('refuses a replayed code and an unverified email of an existing user', async () => {
    const login = unique('octo');
    const code = oauth2.issueCode({ login, mail: `${login}@example.test`, verified: true });
    expect((await idpLogin(idp, code, 'oauth2Context')).status).toBe(200);
    const replay = await idpLogin(idp, code, 'oauth2Context');
    expectRefused(replay);
    expect(replay.text).not.toContain('internal detail that must not leak');

    const existing = await t.createUser({});
    expectRefused(await idpLogin(idp, oauth2.issueCode({ login: unique('x'), mail: existing.email, verified: false }), 'oauth2Context'));
  });
});

describe('browser flow (GET /v1/idps/{id}/authorize → /oauth/callback)', () => {
  let idp: string;
  beforeAll(async () => {
    idp = await createOidcIdp();
  });

  async function start(returnTo = `${PUBLIC_URL}/app/home`) {
    const res = await t.req('GET', `/v1/idps/${idp}/authorize?returnTo=${encodeURIComponent(returnTo)}`);
    expect(res.status, res.text).toBe(302);
    const location = new URL(res.headers.get('location') as string);
    const flowCookie = res.cookies.find((c) => c.startsWith('idp-flow='));
    expect(flowCookie).toMatch(/HttpOnly/i);
    expect(flowCookie).toMatch(/Path=\/oauth\/callback/);
    return { location, flowCookie: (flowCookie as string).split(';')[0] as string };
  }

  const callback = (url: URL, cookie?: string) => t.req('GET', `${url.pathname}${url.search}`, cookie ? { headers: { cookie } } : {});

  it('sends state, PKCE S256 and nonce, then sets the session cookies and redirects to the allow-listed returnTo', async () => {
    const a = account();
    const { location, flowCookie } = await start();
    expect(location.origin).toBe(op.issuer);
    const params = location.searchParams;
    expect(params.get('redirect_uri')).toBe(REDIRECT_URI);
    expect(params.get('code_challenge_method')).toBe('S256');
    expect(params.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(params.get('state')).toMatch(/^[\w-]{40,}$/);
    expect(params.get('nonce')).toMatch(/^[\w-]{40,}$/);
    expect(flowCookie).toBe(`idp-flow=${params.get('state')}`);

    const back = await op.authorize(location.toString(), a.sub);
    expect(back.searchParams.get('state')).toBe(params.get('state'));
    const done = await callback(back, flowCookie);
    expect(done.status, done.text).toBe(302);
    expect(done.headers.get('location')).toBe(`${PUBLIC_URL}/app/home`);
    const access = done.cookies.find((c) => c.startsWith('access-token='));
    expect(access).toMatch(/HttpOnly/i);
    expect(done.cookies.some((c) => c.startsWith('refresh-token='))).toBe(true);
    expect(done.cookies.some((c) => c.startsWith('user=users/'))).toBe(true);
    const me = await t.req('GET', '/v1/auth/user', { headers: { cookie: (access as string).split(';')[0] as string } });
    expect(me.status).toBe(200);
    expect(me.body.user.email).toBe(a.email);

    // The flow is single-use: the same callback again finds nothing.
    const again = await callback(back, flowCookie);
    expectRefused(again, 400, 'idp.invalid_flow');
  });

  it('refuses a tampered state, a missing flow cookie and an id_token whose nonce is not ours', async () => {
    const a = account();
    const first = await start();
    const back = await op.authorize(first.location.toString(), a.sub);
    const tampered = new URL(back);
    tampered.searchParams.set('state', `${back.searchParams.get('state')}x`);
    const res = await callback(tampered, first.flowCookie);
    expectRefused(res, 400, 'idp.invalid_flow');
    expect(res.headers.get('location')).toBeNull();

    const second = await start();
    const back2 = await op.authorize(second.location.toString(), a.sub);
    expectRefused(await callback(back2), 400, 'idp.invalid_flow');

    const third = await start();
    const back3 = await op.authorize(third.location.toString(), a.sub);
    op.tamper = { claims: (c) => void (c.nonce = 'not-the-nonce') };
    try {
      const res3 = await callback(back3, third.flowCookie);
      expectRefused(res3);
      expect(res3.cookies.some((c) => c.startsWith('access-token=') && !c.startsWith('access-token=;'))).toBe(false);
    } finally {
      op.tamper = undefined;
    }
  });

  it('refuses a returnTo that is not allow-listed (no open redirect)', async () => {
    for (const bad of ['https://evil.example/x', 'http://portcullis.test.evil.example/', '//evil.example/x', 'javascript:alert(1)']) {
      const res = await t.req('GET', `/v1/idps/${idp}/authorize?returnTo=${encodeURIComponent(bad)}`);
      expect(res.status, bad).toBe(400);
      expect(res.body).toMatchObject({ error: 'request.invalid', details: ['query.returnTo'] });
      expect(res.headers.get('location')).toBeNull();
    }
    const relative = await t.req('GET', `/v1/idps/${idp}/authorize?returnTo=%2Fapp`);
    expect(relative.status).toBe(302);
    expect((await t.req('GET', '/v1/idps/no-such-idp/authorize')).status).toBe(404);
  });
});

describe('secrets', () => {
  it('never appear in responses or logs', async () => {
    // Its own administration and sign-ins, so that the check has something to look at alone and in
    // any order: every route that takes a client secret, and the sign-ins that send it to a provider.
    const before = responses.length;
    const oidc = await createOidcIdp();
    keep(await t.req('GET', `/v1/idps/${oidc}`, { apiKey: t.adminKey }));
    keep(await t.req('GET', '/v1/idps', { apiKey: t.adminKey }));
    expect((await idpLogin(oidc, await op.code(account().sub))).status).toBe(200);
    const oauth = unique('oauth-').toLowerCase();
    const created = keep(
      await t.req('POST', '/v1/idps', {
        apiKey: t.adminKey,
        json: {
          identityProviderId: oauth,
          title: 'Test OAuth2',
          type: 'OAUTH2',
          config: {
            oauth2Config: {
              authUrl: `${oauth2.url}/authorize`,
              tokenUrl: `${oauth2.url}/token`,
              userInfoUrl: `${oauth2.url}/userinfo`,
              clientId: oauth2.clientId,
              clientSecret: oauth2.clientSecret,
              fieldMapping: { identifier: 'login', email: 'mail', emailVerified: 'verified' },
            },
          },
        },
      }),
    );
    expect(created.status, created.text).toBe(201);
    const login = unique('octo');
    const info = { login, mail: `${login}@example.test`, verified: true };
    expect((await idpLogin(oauth, oauth2.issueCode(info), 'oauth2Context')).status).toBe(200);
    const rotated = `rotated-${unique('s')}`;
    const patched = keep(
      await t.req('PATCH', `/v1/idps/${oidc}`, { apiKey: t.adminKey, json: { config: { oidcConfig: { clientSecret: rotated } } } }),
    );
    expect(patched.status, patched.text).toBe(200);
    expect(responses.length - before).toBe(7);

    const logs = t.logs();
    expect(logs).toContain('"url":"/v1/idps"');
    expect(logs).toContain(`"url":"/v1/idps/${oidc}"`);
    expect(logs).toContain('"url":"/v1/auth/login"');
    for (const secret of [op.clientSecret, oauth2.clientSecret, rotated]) {
      expect(logs).not.toContain(secret);
      for (const body of responses) expect(body).not.toContain(secret);
    }
  });
});
