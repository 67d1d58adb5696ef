import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, buildTestApp, type TestApp } from '../helpers/test-app.js';

/** Findings of the robustness suite and the bench (issue 8). */
describe('sessions regressions', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(async () => t?.close());

  /** @see issue 8 — `curl -X POST …/logout -H 'Authorization: Bearer …'` sends no body at all. */
  it('logs out with a Bearer token and no body', async () => {
    const login = await t.req('POST', '/v1/auth/login', { json: { username: ADMIN.userName, password: ADMIN.password } });
    expect(login.status).toBe(200);
    const out = await t.req('POST', '/v1/auth/logout', { token: login.body.token });
    expect(out.status).toBe(200);
    expect((await t.req('GET', '/v1/auth/user', { token: login.body.token })).status).toBe(401);
    // Idempotent with no credential and no body either.
    expect((await t.req('POST', '/v1/auth/logout')).status).toBe(200);
  });

  /** @see issue 8 — the refresh cookie form may come with no body too. */
  it('answers 401, not 400, to a refresh with no body and no cookie', async () => {
    const res = await t.req('POST', '/v1/auth/refresh');
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('auth.invalid_token');
  });
});
