import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/test-app.js';

describe('PATCH /v1/users/:id applies only its documented fields', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(async () => t?.close());

  /** @see issue 8 — found by the fuzzer: unknown body keys reached the UPDATE as columns (500, or worse). */
  it('ignores unknown and internal fields instead of writing them', async () => {
    const other = await t.createOrg();
    const u = await t.createUser({});
    const before = (await t.app.services.users.lookup.findById(u.id))!;
    const res = await t.req('PATCH', `/v1/users/${u.id}`, {
      apiKey: t.adminKey,
      json: {
        firstName: 'Ada',
        username: 'x',
        organizationId: other,
        passwordHash: '$argon2id$forged',
        mfaEnabled: true,
        createdAt: '2000-01-01T00:00:00.000Z',
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.firstName).toBe('Ada');
    const after = (await t.app.services.users.lookup.findById(u.id))!;
    expect(after.organizationId).toBe(before.organizationId);
    expect(after.passwordHash).toBe(before.passwordHash);
    expect(after.mfaEnabled).toBe(before.mfaEnabled);
    expect(after.createdAt).toBe(before.createdAt);
  });
});
