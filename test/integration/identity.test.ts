import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, buildTestApp, type TestApp, unique } from '../helpers/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(async () => {
  await t?.close();
});

const expectErrorBody = (body: any, error: string, status: number) => {
  expect(body).toMatchObject({ success: false, error, status });
  expect(typeof body.code).toBe('number');
  expect(typeof body.message).toBe('string');
};

describe('operations', () => {
  it('answers health, readiness, metrics, openapi and docs', async () => {
    expect((await t.req('GET', '/healthz')).body).toEqual({ status: 'ok' });
    expect((await t.req('GET', '/readyz')).status).toBe(200);
    // Without PORTCULLIS_METRICS_TOKEN there are no metrics (test/integration/hardening.test.ts serves them).
    expect((await t.req('GET', '/metrics')).status).toBe(404);
    const openapi = await t.req('GET', '/openapi.json');
    expect(openapi.body.openapi).toBe('3.1.0');
    expect(Object.keys(openapi.body.paths)).toEqual(expect.arrayContaining(['/v1/users', '/v1/api-keys', '/v1/organizations']));
    expect((await t.req('GET', '/docs/')).status).toBe(200);
  });

  it('answers unknown routes with the error body', async () => {
    const res = await t.req('GET', '/nope');
    expect(res.status).toBe(404);
    expectErrorBody(res.body, 'route.not_found', 404);
    expect(res.body.code).toBe(5);
  });

  it('refuses a wrong content type with 415 and an oversized body with 413', async () => {
    const form = await t.req('POST', '/v1/users', {
      apiKey: t.adminKey,
      body: 'userName=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(415);
    expectErrorBody(form.body, 'request.unsupported_media_type', 415);
    const huge = await t.req('POST', '/v1/users', { apiKey: t.adminKey, json: { userName: 'x'.repeat(2_000_000) } });
    expect(huge.status).toBe(413);
    expectErrorBody(huge.body, 'request.too_large', 413);
    const bad = await t.req('POST', '/v1/users', {
      apiKey: t.adminKey,
      body: '{"userName":',
      headers: { 'content-type': 'application/json' },
    });
    expect(bad.status).toBe(400);
    expectErrorBody(bad.body, 'request.malformed_body', 400);
  });

  it('parses application/*+json and text/json as JSON, and ignores unknown query parameters', async () => {
    const userName = unique('jp');
    const res = await t.req('POST', '/v1/users?request=x', {
      apiKey: t.adminKey,
      body: JSON.stringify({ userName }),
      headers: { 'content-type': 'application/json-patch+json', accept: 'text/plain' },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const tj = await t.req('POST', '/v1/users', {
      apiKey: t.adminKey,
      body: JSON.stringify({ userName: unique('tj') }),
      headers: { 'content-type': 'text/json' },
    });
    expect(tj.status).toBe(201);
  });
});

describe('organizations', () => {
  it('lets the superadmin create and list organizations', async () => {
    const name = unique('acme');
    const res = await t.req('POST', '/v1/organizations', { apiKey: t.adminKey, json: { name } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name, id: expect.any(String), createdAt: expect.any(String) });
    const list = await t.req('GET', '/v1/organizations', { apiKey: t.adminKey });
    expect(list.body.organizations.map((o: any) => o.name)).toContain(name);
    const dup = await t.req('POST', '/v1/organizations', { apiKey: t.adminKey, json: { name } });
    expect(dup.status).toBe(409);
    expectErrorBody(dup.body, 'resource.conflict', 409);
  });

  it('refuses bad input and non-superadmins, changing nothing', async () => {
    const empty = await t.req('POST', '/v1/organizations', { apiKey: t.adminKey, json: { name: '' } });
    expect(empty.status).toBe(400);
    expect(empty.body.details).toContain('body.name');
    const wrongType = await t.req('POST', '/v1/organizations', { apiKey: t.adminKey, json: { name: { a: 1 } } });
    expect(wrongType.status).toBe(400);
    const admin = await t.createUser({ roles: ['admin'] });
    const key = await t.createApiKey(admin.id);
    const name = unique('nope');
    const res = await t.req('POST', '/v1/organizations', { apiKey: key.secret, json: { name } });
    expect(res.status).toBe(403);
    expectErrorBody(res.body, 'auth.forbidden', 403);
    expect(res.body.code).toBe(7);
    expect(await t.app.services.organizations.findByName(name)).toBeUndefined();
  });
});

describe('users', () => {
  it('creates, reads, lists with filters and pagination, updates and deletes', async () => {
    const userName = unique('alice');
    const created = await t.req('POST', '/v1/users', {
      apiKey: t.adminKey,
      json: {
        userName,
        email: ` ${userName.toUpperCase()}@Example.TEST `,
        password: 'a long enough passphrase',
        firstName: 'Alice',
        adSid: 'S-1-5-21-1-2-3-1001',
        externalId: `ext-${userName}`,
      },
    });
    expect(created.status).toBe(201);
    const user = created.body;
    expect(user).toMatchObject({
      userName,
      email: `${userName}@example.test`,
      name: `users/${user.id}`,
      state: 'ACTIVE',
      userType: 'USER',
      roles: ['member'],
      adSid: 'S-1-5-21-1-2-3-1001',
      mfaEnabled: false,
    });
    expect(user.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.stringify(user)).not.toContain('passphrase');
    expect(user).not.toHaveProperty('passwordHash');

    const got = await t.req('GET', `/v1/users/${user.id}`, { apiKey: t.adminKey });
    expect(got.body.userName).toBe(userName);

    for (const q of [`userName=${userName}`, `email=${userName}@example.test`, 'adSid=S-1-5-21-1-2-3-1001', `externalId=ext-${userName}`]) {
      const list = await t.req('GET', `/v1/users?${q}`, { apiKey: t.adminKey });
      expect(list.status).toBe(200);
      expect(list.body.users.map((u: any) => u.id)).toEqual([user.id]);
    }

    const patched = await t.req('PATCH', `/v1/users/${user.id}`, { apiKey: t.adminKey, json: { title: 'CTO', groups: ['eng'] } });
    expect(patched.body).toMatchObject({ title: 'CTO', groups: ['eng'] });

    const del = await t.req('DELETE', `/v1/users/${user.id}`, { apiKey: t.adminKey });
    expect(del.status).toBe(200);
    expect((await t.req('GET', `/v1/users/${user.id}`, { apiKey: t.adminKey })).body.state).toBe('DELETED');
  });

  it('paginates with pageSize and pageToken', async () => {
    const org = await t.createOrg();
    for (let i = 0; i < 5; i++) await t.createUser({ organizationId: org });
    const seen: string[] = [];
    let token = '';
    do {
      const res = await t.req('GET', `/v1/users?organizationId=${org}&pageSize=2${token ? `&pageToken=${token}` : ''}`, {
        apiKey: t.adminKey,
      });
      expect(res.status).toBe(200);
      expect(res.body.users.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.users.map((u: any) => u.id));
      token = res.body.nextPageToken;
    } while (token);
    expect(new Set(seen).size).toBe(5);
    const bad = await t.req('GET', '/v1/users?pageToken=%%%', { apiKey: t.adminKey });
    expect(bad.status).toBe(400);
    const big = await t.req('GET', '/v1/users?pageSize=100000', { apiKey: t.adminKey });
    expect(big.status).toBe(400);
    expect(big.body.details).toContain('querystring.pageSize');
  });

  it('refuses bad input with field paths and writes nothing', async () => {
    const before = await t.app.services.users.lookup.count();
    const cases: [unknown, string][] = [
      [{}, 'body.userName'],
      [{ userName: 'a/b' }, 'body.userName'],
      [{ userName: unique('e'), email: 'not-an-email' }, 'body.email'],
      [{ userName: unique('r'), roles: 'admin' }, 'body.roles'],
      [{ userName: unique('s'), adSid: 'X-1-2' }, 'body.adSid'],
      [{ userName: unique('p'), password: 'password' }, 'body.password'],
      [{ userName: unique('p'), password: 'short' }, 'body.password'],
      [{ userName: unique('t'), userType: 'ROBOT' }, 'body.userType'],
      [{ userName: unique('w'), userType: 'WORKLOAD_IDENTITY', email: 'w@example.test' }, 'body.workloadIdentityConfig'],
    ];
    for (const [json, path] of cases) {
      const res = await t.req('POST', '/v1/users', { apiKey: t.adminKey, json });
      expect(res.status, JSON.stringify(json)).toBe(400);
      expect(res.body.success).toBe(false);
      expect(res.body.details, JSON.stringify(json)).toContain(path);
    }
    const unknownRole = await t.req('POST', '/v1/users', { apiKey: t.adminKey, json: { userName: unique('u'), roles: ['wizard'] } });
    expect(unknownRole.status).toBe(400);
    const dup = await t.req('POST', '/v1/users', { apiKey: t.adminKey, json: { userName: ADMIN.userName.toUpperCase() } });
    expect(dup.status).toBe(409);
    expect(dup.body.details).toEqual(['body.userName']);
    expect(await t.app.services.users.lookup.count()).toBe(before);
  });

  it('hands a SERVICE_ACCOUNT its service key once', async () => {
    const res = await t.req('POST', '/v1/users', {
      apiKey: t.adminKey,
      json: { userName: unique('bot'), email: `${unique('bot')}@example.test`, userType: 'SERVICE_ACCOUNT' },
    });
    expect(res.status).toBe(201);
    expect(res.body.serviceKey).toMatch(/^pss_/);
    const again = await t.req('GET', `/v1/users/${res.body.id}`, { apiKey: t.adminKey });
    expect(again.body.serviceKey).toBeUndefined();
  });
});

describe('organization isolation', () => {
  it('answers 404 for ids of another organization, exactly as for ids that do not exist', async () => {
    const orgA = await t.createOrg();
    const orgB = await t.createOrg();
    const adminA = await t.createUser({ organizationId: orgA, roles: ['admin'] });
    const userB = await t.createUser({ organizationId: orgB });
    const adminB = await t.createUser({ organizationId: orgB, roles: ['admin'] });
    const keyA = await t.createApiKey(adminA.id);
    const keyB = await t.createApiKey(adminB.id);
    const foreign = await t.req('GET', `/v1/users/${userB.id}`, { apiKey: keyA.secret });
    const missing = await t.req('GET', '/v1/users/00000000-0000-4000-8000-000000000000', { apiKey: keyA.secret });
    expect(foreign.status).toBe(404);
    expect(foreign.body).toEqual(missing.body);
    expect((await t.req('PATCH', `/v1/users/${userB.id}`, { apiKey: keyA.secret, json: { title: 'x' } })).status).toBe(404);
    expect((await t.req('DELETE', `/v1/users/${userB.id}`, { apiKey: keyA.secret })).status).toBe(404);
    expect((await t.req('DELETE', `/v1/api-keys/${keyB.id}`, { apiKey: keyA.secret })).status).toBe(404);
    const list = await t.req('GET', '/v1/users', { apiKey: keyA.secret });
    expect(list.body.users.every((u: any) => u.organizationId === orgA)).toBe(true);
    // B's key still works: A's attempt changed nothing.
    expect((await t.req('GET', '/v1/api-keys', { apiKey: keyB.secret })).status).toBe(200);
    expect((await t.req('GET', `/v1/users/${userB.id}`, { apiKey: keyB.secret })).body.title).toBeNull();
  });
});

describe('API keys', () => {
  it('authenticates with x-api-key, Bearer <secret> and Basic key:secret', async () => {
    const res = await t.req('POST', '/v1/api-keys', { apiKey: t.adminKey, json: { name: 'ci', scopes: ['users:read'] } });
    expect(res.status).toBe(201);
    const { key, clientSecret, id } = res.body;
    expect(clientSecret).toMatch(/^pcs_/);
    expect((await t.req('GET', '/v1/users', { apiKey: clientSecret })).status).toBe(200);
    expect((await t.req('GET', '/v1/users', { headers: { authorization: `Bearer ${clientSecret}` } })).status).toBe(200);
    const basic = Buffer.from(`${key}:${clientSecret}`).toString('base64');
    expect((await t.req('GET', '/v1/users', { headers: { authorization: `Basic ${basic}` } })).status).toBe(200);
    const wrongBasic = Buffer.from(`${key}:pcs_wrong`).toString('base64');
    const refused = await t.req('GET', '/v1/users', { headers: { authorization: `Basic ${wrongBasic}` } });
    expect(refused.status).toBe(401);
    expectErrorBody(refused.body, 'auth.invalid_credentials', 401);
    expect(refused.headers.get('www-authenticate')).toMatch(/Bearer/);
    const none = await t.req('GET', '/v1/users');
    expect(none.status).toBe(401);
    expectErrorBody(none.body, 'auth.unauthenticated', 401);
    expect(none.body.code).toBe(16);

    // Never shown again: the list masks it.
    const list = await t.req('GET', '/v1/api-keys', { apiKey: t.adminKey });
    const listed = list.body.apiKeys.find((k: any) => k.id === id);
    expect(listed.clientSecret).not.toBe(clientSecret);
    expect(list.text).not.toContain(clientSecret);
    expect(listed).toMatchObject({ key, revoked: false, permissions: 1, scopes: ['users:read'] });
  });

  it('enforces scopes with 403', async () => {
    const { secret } = await t.createApiKey(t.adminId, ['users:read']);
    const res = await t.req('POST', '/v1/users', { apiKey: secret, json: { userName: unique('x') } });
    expect(res.status).toBe(403);
    expectErrorBody(res.body, 'auth.forbidden', 403);
    expect((await t.req('GET', '/v1/audit-events', { apiKey: secret })).status).toBe(403);
  });

  it('maps Babel integer permissions onto scopes and keeps reveal by name only', async () => {
    const res = await t.req('POST', '/v1/api-keys', { apiKey: t.adminKey, json: { name: 'babel', permissions: 15 } });
    expect(res.status).toBe(201);
    expect(res.body.permissions).toBe(15);
    expect(res.body.scopes).not.toContain('logins:reveal');
    expect(res.body.scopes).toEqual(expect.arrayContaining(['users:read', 'users:write', 'logins:write', 'audit:read']));
    const readOnly = await t.req('POST', '/v1/api-keys', { apiKey: t.adminKey, json: { name: 'ro', permissions: 1 } });
    expect(readOnly.body.scopes.every((s: string) => s.endsWith(':read'))).toBe(true);
    // A key without reveal cannot mint one; the owner (a user principal) can, by name.
    const reveal = await t.req('POST', '/v1/api-keys', { apiKey: t.adminKey, json: { name: 'rv', scopes: ['logins:reveal'] } });
    expect(reveal.status).toBe(403);
    const byName = await t.createApiKey(t.adminId, ['logins:reveal']);
    const listed = await t.req('GET', '/v1/api-keys', { apiKey: t.adminKey });
    expect(listed.body.apiKeys.find((k: any) => k.id === byName.id).scopes).toEqual(['logins:reveal']);
  });

  it('never lets a key hold more than its owner', async () => {
    const member = await t.createUser({});
    const memberKey = await t.createApiKey(member.id);
    const res = await t.req('POST', '/v1/api-keys', { apiKey: memberKey.secret, json: { name: 'escalate', scopes: ['users:write'] } });
    expect(res.status).toBe(403);
    const narrow = await t.createApiKey(t.adminId, ['apikeys:write']);
    const wider = await t.req('POST', '/v1/api-keys', { apiKey: narrow.secret, json: { name: 'wider', scopes: ['users:write'] } });
    expect(wider.status).toBe(403);
  });

  it('refuses revoked and expired keys', async () => {
    const key = await t.createApiKey(t.adminId);
    expect((await t.req('GET', '/v1/users', { apiKey: key.secret })).status).toBe(200);
    expect((await t.req('DELETE', `/v1/api-keys/${key.id}`, { apiKey: t.adminKey })).status).toBe(200);
    expect((await t.req('GET', '/v1/users', { apiKey: key.secret })).status).toBe(401);

    const soon = new Date(Date.now() + 1500).toISOString();
    const res = await t.req('POST', '/v1/api-keys', { apiKey: t.adminKey, json: { name: 'short', expireDate: soon } });
    expect(res.status).toBe(201);
    expect((await t.req('GET', '/v1/users', { apiKey: res.body.clientSecret })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1600));
    expect((await t.req('GET', '/v1/users', { apiKey: res.body.clientSecret })).status).toBe(401);
    const past = await t.req('POST', '/v1/api-keys', { apiKey: t.adminKey, json: { name: 'past', expireDate: '2001-01-01T00:00:00Z' } });
    expect(past.status).toBe(400);
  });

  it('never logs a secret', async () => {
    const res = await t.req('POST', '/v1/api-keys', { apiKey: t.adminKey, json: { name: 'logged' } });
    await t.req('GET', '/v1/users', { apiKey: res.body.clientSecret });
    await t.req('GET', '/v1/users', { headers: { authorization: `Bearer ${res.body.clientSecret}` } });
    await t.req('POST', '/v1/users', { apiKey: t.adminKey, json: { userName: unique('lg'), password: 'very secret passphrase 42' } });
    const logs = t.logs();
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).not.toContain(res.body.clientSecret);
    expect(logs).not.toContain(t.adminKey);
    expect(logs).not.toContain('very secret passphrase 42');
  });
});

describe('audit', () => {
  it('records key creation and lists events by action', async () => {
    await t.req('POST', '/v1/api-keys', { apiKey: t.adminKey, json: { name: 'audited' } });
    const res = await t.req('GET', '/v1/audit-events?action=api_key.created&pageSize=1', { apiKey: t.adminKey });
    expect(res.status).toBe(200);
    expect(res.body.events).toHaveLength(1);
    expect(res.body.events[0]).toMatchObject({ action: 'api_key.created', actorType: 'api_key' });
    expect(res.body.nextPageToken).not.toBe('');
  });
});
