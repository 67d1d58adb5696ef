import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/test-app.js';

// `curl -d` sends application/x-www-form-urlencoded. Decision (issue 16): only the Bytebase auth
// routes read any content type as JSON, because Bytebase's documented curl examples rely on it; every
// other route keeps refusing a non-JSON body with 415 (guessing that a form body is JSON would accept
// requests that mean something else), and the 415 names the header and the type to send instead.

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(async () => {
  await t?.close();
});

describe('a form-encoded body (curl -d)', () => {
  it('is a 415 on POST /logins/list that names Content-Type and application/json', async () => {
    const res = await t.req('POST', '/logins/list', {
      body: '{"domain":"example.test"}',
      headers: { authorization: `Bearer ${t.adminKey}`, 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(415);
    expect(res.body).toMatchObject({
      success: false,
      error: 'request.unsupported_media_type',
      status: 415,
      code: 3,
      details: ['headers.content-type'],
    });
    expect(res.body.message).toContain('application/json');
  });

  it('is accepted on POST /logins/list as JSON (curl --json)', async () => {
    const res = await t.req('POST', '/logins/list', {
      body: '{"domain":"example.test"}',
      headers: { authorization: `Bearer ${t.adminKey}`, 'content-type': 'application/json', accept: 'application/json' },
    });
    expect(res.status).toBe(200);
    expect(res.body.logins).toEqual(expect.any(Array));
  });

  it('is read as JSON by POST /v1/auth/login (Bytebase clients send it)', async () => {
    const user = await t.createUser({});
    const res = await t.req('POST', '/v1/auth/login', {
      body: JSON.stringify({ username: user.userName, password: user.password }),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(200);
    expect(res.body.token).toEqual(expect.any(String));
  });
});
