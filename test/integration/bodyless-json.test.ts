import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * @see issue 16 — clients that set a JSON content type for a whole session send it on bodiless
 * requests too. No body is no body: the route's schema decides whether one is needed.
 */
let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(async () => {
  await t?.close();
});

describe('a JSON content type without a body', () => {
  it('SCIM DELETE with content-type application/scim+json answers 204 and deletes', async () => {
    const admin = await t.createUser({ roles: ['admin'] });
    const key = await t.createApiKey(admin.id, ['users:write']);
    const member = await t.createUser({});
    const res = await t.req('DELETE', `/scim/v2/Users/${member.id}`, {
      headers: { authorization: `Bearer ${key.secret}`, 'content-type': 'application/scim+json' },
    });
    expect(res.status, res.text).toBe(204);
    expect((await t.app.services.users.lookup.findById(member.id))?.state).toBe('DELETED');
  });

  it('POST /v1/auth/logout with content-type application/json and no body answers 200 and revokes', async () => {
    const user = await t.createUser({});
    const token = (await t.req('POST', '/v1/auth/login', { json: { username: user.userName, password: user.password } })).body.token;
    const res = await t.req('POST', '/v1/auth/logout', { token, headers: { 'content-type': 'application/json' } });
    expect(res.status, res.text).toBe(200);
    expect((await t.req('GET', '/v1/auth/user', { token })).status).toBe(401);
  });

  it('a route that needs a body still answers 400 request.invalid, and creates nothing', async () => {
    const res = await t.req('POST', '/v1/users', { apiKey: t.adminKey, headers: { 'content-type': 'application/json' } });
    expect(res.status, res.text).toBe(400);
    expect(res.body).toMatchObject({ success: false, error: 'request.invalid', status: 400 });
  });
});
