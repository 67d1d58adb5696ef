import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/test-app.js';

/** @see issue 16 — a known path asked with a method it does not serve is 405 with `Allow`, not 404. */
let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(async () => {
  await t?.close();
});

describe('405 method.not_allowed', () => {
  it('names the methods a known path serves, on fixed and parametric paths', async () => {
    const login = await t.req('GET', '/v1/auth/login');
    expect(login.status).toBe(405);
    expect(login.headers.get('allow')).toBe('POST');
    expect(login.body).toMatchObject({ success: false, error: 'method.not_allowed', status: 405 });
    const user = await t.req('PUT', '/v1/users/some-id', { apiKey: t.adminKey, json: {} });
    expect(user.status).toBe(405);
    expect(user.headers.get('allow')).toBe('DELETE, GET, HEAD, PATCH');
  });

  it('answers in SCIM’s error body on /scim/v2', async () => {
    const res = await t.req('POST', '/scim/v2/ServiceProviderConfig', { json: {} });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toContain('GET');
    expect(res.headers.get('content-type')).toMatch(/^application\/scim\+json/);
  });

  it('keeps 404 route.not_found for a path nothing serves', async () => {
    const res = await t.req('GET', '/v1/no-such-thing');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error: 'route.not_found' });
  });
});
