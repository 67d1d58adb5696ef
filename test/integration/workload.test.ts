import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp, unique } from '../helpers/test-app.js';
import { startTestIssuer, type TestIssuer } from '../helpers/workload-issuer.js';

let t: TestApp;
let issuer: TestIssuer;

beforeAll(async () => {
  issuer = await startTestIssuer();
  t = await buildTestApp({ PORTCULLIS_IDP_ALLOW_PRIVATE_HOSTS: 'true' });
});
afterAll(async () => {
  await t?.close();
  await issuer?.close();
});

async function workload(config: Record<string, unknown> = {}): Promise<string> {
  const userName = unique('ci');
  const email = `${userName}@workload.example.test`;
  const res = await t.req('POST', '/v1/users', {
    apiKey: t.adminKey,
    json: {
      userName,
      email,
      userType: 'WORKLOAD_IDENTITY',
      workloadIdentityConfig: {
        providerType: 'GENERIC',
        issuerUrl: issuer.url,
        allowedAudiences: ['https://portcullis.example'],
        subjectPattern: 'repo:acme/api:*',
        ...config,
      },
    },
  });
  expect(res.status, res.text).toBe(201);
  return email;
}

const goodClaims = { aud: 'https://portcullis.example', sub: 'repo:acme/api:ref:refs/heads/main' };
const exchange = (token: string, email: string) => t.req('POST', '/v1/auth:exchangeToken', { json: { token, email } });

const expect401 = (res: Awaited<ReturnType<typeof exchange>>) => {
  expect(res.status, res.text).toBe(401);
  expect(res.body).toMatchObject({ success: false, error: 'auth.invalid_token', code: 16, status: 401 });
  expect(res.body.accessToken).toBeUndefined();
};

describe('POST /v1/auth:exchangeToken', () => {
  it('exchanges a good token for an access token (no refresh token) that acts as the workload identity', async () => {
    const email = await workload();
    const res = await exchange(await issuer.sign(goodClaims), email);
    expect(res.status, res.text).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['accessToken', 'expiresIn']);
    expect(res.body.expiresIn).toBe(900);
    const me = await t.req('GET', '/v1/auth/user', { token: res.body.accessToken });
    expect(me.status).toBe(200);
    expect(me.body.user).toMatchObject({ email, userType: 'WORKLOAD_IDENTITY' });
  });

  it('accepts the request as GitHub Actions sends it (curl -d: x-www-form-urlencoded) and answers .accessToken', async () => {
    const email = await workload();
    const token = await issuer.sign(goodClaims);
    const res = await fetch(`${t.url}/v1/auth:exchangeToken`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: '*/*', 'user-agent': 'curl/8.5.0' },
      body: `{"token":"${token}","email":"${email}"}`,
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { accessToken: string };
    expect(body.accessToken.split('.')).toHaveLength(3);
  });

  it('refuses a wrong audience, a wrong subject, a forged signature, an expired token and a wrong issuer with 401, then throttles', async () => {
    const email = await workload();
    expect401(await exchange(await issuer.sign({ ...goodClaims, aud: 'https://someone-else.example' }), email));
    expect401(await exchange(await issuer.sign({ ...goodClaims, sub: 'repo:evil/api:ref:refs/heads/main' }), email));
    expect401(await exchange(await issuer.sign(goodClaims, { forge: true }), email));
    expect401(await exchange(await issuer.sign(goodClaims, { expiresInSeconds: -120 }), email));
    expect401(await exchange(await issuer.sign({ ...goodClaims, iss: 'https://token.actions.githubusercontent.com' }), email));
    expect401(await exchange('not-a-jwt', email));
    const reasons = (
      await t.app.services.storage.db.selectFrom('auditEvents').select('data').where('action', '=', 'workload.token_rejected').execute()
    ).map((r) => JSON.parse(r.data).reason as string);
    expect(reasons).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/aud/),
        'subject_mismatch',
        expect.stringMatching(/SIGNATURE/),
        expect.stringMatching(/EXPIRED/),
        expect.stringMatching(/iss/),
      ]),
    );
    // Six failures in a row throttle the identity (per-account back-off, like password logins).
    const throttled = await exchange(await issuer.sign(goodClaims), email);
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toMatch(/^\d+$/);
    expect((await exchange(await issuer.sign(goodClaims), await workload())).status).toBe(200);
  });

  it('answers 404 for an unknown identity and for a user that is not a workload identity', async () => {
    const token = await issuer.sign(goodClaims);
    const unknown = await exchange(token, `${unique('nobody')}@example.test`);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ success: false, error: 'resource.not_found', code: 5 });
    const person = await t.createUser({});
    expect((await exchange(token, person.email)).status).toBe(404);
  });

  it('matches subjectPattern exactly, or by prefix with a trailing *; a bare * matches nothing', async () => {
    const exact = await workload({ subjectPattern: 'repo:acme/api:environment:prod' });
    expect((await exchange(await issuer.sign({ ...goodClaims, sub: 'repo:acme/api:environment:prod' }), exact)).status).toBe(200);
    expect401(await exchange(await issuer.sign({ ...goodClaims, sub: 'repo:acme/api:environment:prod2' }), exact));
    const star = await workload({ subjectPattern: '*' });
    expect401(await exchange(await issuer.sign(goodClaims), star));
  });

  it('takes the identity’s email trimmed and case-insensitively, and accepts any of the allowed audiences', async () => {
    const email = await workload({ allowedAudiences: ['first', 'second'], providerType: 'GITHUB' });
    const res = await exchange(await issuer.sign({ ...goodClaims, aud: 'second' }), ` ${email.toUpperCase()} `);
    expect(res.status, res.text).toBe(200);
  });

  it('refuses a malformed body with 400', async () => {
    const res = await t.req('POST', '/v1/auth:exchangeToken', { json: { token: 'x' } });
    expect(res.status).toBe(400);
    expect(res.body.details).toContain('body.email');
  });

  it('keeps tokens out of the logs', async () => {
    const token = await issuer.sign(goodClaims);
    await exchange(token, await workload());
    expect(t.logs()).not.toContain(token);
  });
});
