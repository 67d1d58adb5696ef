import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * Where DESIGN.md's "What clients written against the seeds actually send" replaced an earlier
 * issue's expectation, the old expectation is asserted gone here, so it is not silently kept.
 */
let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ PORTCULLIS_PUBLIC_URL: 'https://id.example.test' });
});
afterAll(async () => {
  await t?.close();
});

describe('replaced expectations', () => {
  it('cookie names are access-token / refresh-token / user, never __Host-, and Secure under an https public URL', async () => {
    const user = await t.createUser({});
    const res = await t.req('POST', '/v1/auth/login', {
      json: { email: user.email, password: user.password, web: true },
      headers: { origin: 'https://id.example.test' },
    });
    expect(res.status).toBe(200);
    const names = res.cookies.map((c) => c.split('=')[0]);
    expect(names.sort()).toEqual(['access-token', 'refresh-token', 'user']);
    expect(res.cookies.some((c) => c.startsWith('__Host-'))).toBe(false);
    for (const c of res.cookies) expect(c).toMatch(/; Secure/);
  });

  it('the four auth routes take JSON under any content type instead of answering 415', async () => {
    const user = await t.createUser({});
    for (const type of ['application/x-www-form-urlencoded', 'text/plain', 'application/octet-stream']) {
      const res = await t.req('POST', '/v1/auth/login', {
        body: JSON.stringify({ username: user.userName, password: user.password }),
        headers: { 'content-type': type },
      });
      expect(res.status, type).toBe(200);
      const refresh = await t.req('POST', '/v1/auth/refresh', {
        body: JSON.stringify({ refreshToken: res.body.refreshToken }),
        headers: { 'content-type': type },
      });
      expect(refresh.status, type).toBe(200);
      const out = await t.req('POST', '/v1/auth/logout', {
        body: '{}',
        headers: { 'content-type': type, authorization: `Bearer ${refresh.body.token}` },
      });
      expect(out.status, type).toBe(200);
    }
    // other routes still refuse non-JSON bodies
    const other = await t.req('POST', '/v1/api-keys', {
      apiKey: t.adminKey,
      body: '{"name":"x"}',
      headers: { 'content-type': 'text/plain' },
    });
    expect(other.status).toBe(415);
  });

  it('the workload exchange path is /v1/auth:exchangeToken, not /v1/auth/exchange-token', async () => {
    const old = await t.req('POST', '/v1/auth/exchange-token', { json: { token: 'x', email: 'x@example.test' } });
    expect(old.status).toBe(404);
    expect(old.body.error).toBe('route.not_found');
  });
});
