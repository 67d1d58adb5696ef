import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Scope } from '../../src/auth/scopes.js';
import { rawRequest } from '../helpers/raw-http.js';
import { buildTestApp, type TestApp, unique } from '../helpers/test-app.js';

/**
 * HelloID's user API (Tools4ever): GET/POST /api/v1/users, GET/PUT/DELETE /api/v1/users/{…}, with
 * the requests as HelloID's documentation shows them (curl -u key:secret, lower-case
 * `authorization` from the PowerShell connectors). @see issue 20
 */
let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(async () => t?.close());

interface Key {
  id: number;
  key: string;
  secret: string;
}

async function keyOf(
  roles: string[] = ['admin'],
  scopes: Scope[] = ['users:read', 'users:write', 'credentials:write'],
  organizationId?: string,
) {
  const user = await t.createUser({ roles, ...(organizationId ? { organizationId } : {}) });
  return { user, key: await t.createApiKey(user.id, scopes) };
}

const basic = (k: Key) => `Basic ${Buffer.from(`${k.key}:${k.secret}`).toString('base64')}`;

/** What Tools4ever's connectors send: lower-case `authorization`, `Content-Type: application/json`. */
const helloid = (method: string, path: string, k: Key | undefined, json?: unknown) =>
  t.req(method, path, {
    ...(json !== undefined ? { json } : {}),
    headers: { ...(k ? { authorization: basic(k) } : {}), 'content-type': 'application/json' },
  });

/** HelloID's curl examples, byte for byte over a socket (`curl -u {api-key}:{api-secret} -X …`). */
function curl(method: string, path: string, k: Key, body?: string) {
  return rawRequest(
    t.url,
    [
      `${method} ${path} HTTP/1.1`,
      `Host: ${new URL(t.url).host}`,
      `Authorization: ${basic(k)}`,
      'User-Agent: curl/8.5.0',
      'Accept: */*',
      ...(body !== undefined ? ['Content-Type:application/json', `Content-Length: ${Buffer.byteLength(body)}`] : []),
      'Connection: close',
      '',
      body ?? '',
    ].join('\r\n'),
  );
}

const SAMPLE_CREATE = (userName: string) => ({
  firstName: 'Joey',
  lastName: 'Doe',
  userName,
  password: 'hfDXpNYLUEGcar[Hh+7)e}N[,Sp*;^jZ',
  isEnabled: true,
  mustChangePassword: false,
  source: 'IDP',
  adsid: `S-1-5-21-${Math.floor(Math.random() * 1e9)}-0000000000-000000000-${Math.floor(Math.random() * 1e4)}`,
  contactEmail: `${userName.toLowerCase()}@email.test`,
  userAttributes: { PhoneNumber: '003112300456' },
});

describe('POST /api/v1/users (create)', () => {
  it("creates the documentation's sample user; it signs in; the answer is HelloID's user", async () => {
    const { key } = await keyOf();
    const userName = unique('J.Doe-');
    const res = await curl('POST', '/api/v1/users/', key, JSON.stringify(SAMPLE_CREATE(userName)));
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({
      userGUID: expect.stringMatching(/^[0-9a-f-]{36}$/),
      userName,
      firstName: 'Joey',
      lastName: 'Doe',
      contactEmail: `${userName.toLowerCase()}@email.test`,
      isEnabled: true,
      isLocked: false,
      isDeleted: false,
      mustChangePassword: false,
      source: 'IDP',
      userAttributes: { PhoneNumber: '003112300456' },
      links: [{ title: 'self', location: `/api/v1/users/${res.body.userGUID}` }, expect.anything()],
    });
    expect(res.body).not.toHaveProperty('password');
    const login = await t.req('POST', '/v1/auth/login', { json: { username: userName, password: SAMPLE_CREATE(userName).password } });
    expect(login.status).toBe(200);
  });

  it('isEnabled defaults to false (the user cannot sign in), mustChangePassword to false, source to API', async () => {
    const { key } = await keyOf();
    const userName = unique('def-');
    const res = await helloid('POST', '/api/v1/users', key, { userName, password: 'a good long password 1' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ isEnabled: false, mustChangePassword: false, source: 'API', userAttributes: {} });
    expect((await t.req('POST', '/v1/auth/login', { json: { username: userName, password: 'a good long password 1' } })).status).toBe(401);
  });

  it('400 without userName, for a duplicate, and for a body that is not JSON', async () => {
    const { key } = await keyOf();
    const missing = await helloid('POST', '/api/v1/users', key, { firstName: 'No name' });
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ success: false, error: 'request.invalid', status: 400, code: 3 });
    expect(missing.body.details).toEqual(expect.arrayContaining([expect.stringContaining('userName')]));
    const userName = unique('dup-');
    expect((await helloid('POST', '/api/v1/users', key, { userName })).status).toBe(200);
    const dup = await helloid('POST', '/api/v1/users', key, { userName });
    expect(dup.status).toBe(400);
    expect(dup.body.details).toEqual(['body.userName']);
    const quoted = await curl('POST', '/api/v1/users', key, `{ 'userName': '${unique('q-')}' }`);
    expect(quoted.status).toBe(400);
  });

  it('401 without credentials or with a wrong secret', async () => {
    const { key } = await keyOf();
    const none = await helloid('POST', '/api/v1/users', undefined, { userName: unique('x-') });
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ success: false, status: 401, code: 16 });
    const wrong = await helloid('GET', '/api/v1/users', { ...key, secret: `${key.secret}x` });
    expect(wrong.status).toBe(401);
  });

  it('403 for a member, and for a key without users:write', async () => {
    const { key: member } = await keyOf(['member'], ['apikeys:write']);
    expect((await helloid('POST', '/api/v1/users', member, { userName: unique('m-') })).status).toBe(403);
    const { key: readOnly } = await keyOf(['admin'], ['users:read']);
    const res = await helloid('POST', '/api/v1/users', readOnly, { userName: unique('r-') });
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('auth.forbidden');
  });
});

describe('GET /api/v1/users and /api/v1/users/{…}', () => {
  it('finds a user by user name, GUID, AD SID and immutableId', async () => {
    const { key } = await keyOf();
    const created = await helloid('POST', '/api/v1/users', key, SAMPLE_CREATE(unique('find-')));
    const immutableId = unique('imm-');
    expect(
      (await helloid('PUT', `/api/v1/users/${created.body.userGUID}`, key, { IdentifierObject: { ImmutableId: immutableId } })).status,
    ).toBe(200);
    for (const id of [
      created.body.userName,
      created.body.userGUID,
      `{${created.body.userGUID.toUpperCase()}}`,
      created.body.adsid,
      immutableId,
    ]) {
      const res = await curl('GET', `/api/v1/users/${encodeURIComponent(id)}`, key);
      expect(res.status, id).toBe(200);
      expect(res.body.userGUID).toBe(created.body.userGUID);
      expect(res.body.immutableId).toBe(immutableId);
    }
  });

  it('404 with message "User not found" for an unknown user and for a user of another organization', async () => {
    const { key } = await keyOf();
    const other = await t.createOrg();
    const { user: stranger } = await keyOf(['member'], ['apikeys:write'], other);
    for (const id of [unique('nobody-'), randomUUID(), stranger.id, stranger.userName]) {
      const res = await helloid('GET', `/api/v1/users/${id}`, key);
      expect(res.status, id).toBe(404);
      expect(res.body).toMatchObject({ success: false, error: 'resource.not_found', message: 'User not found', status: 404, code: 5 });
      expect((await helloid('PUT', `/api/v1/users/${id}`, key, { firstName: 'x' })).status).toBe(404);
      expect((await helloid('DELETE', `/api/v1/users/${id}`, key)).status).toBe(404);
    }
  });

  it('pages with take (default 100) and skip, filters enabled and isDeleted (default false)', async () => {
    const org = await t.createOrg();
    const { key } = await keyOf(['owner'], ['users:read', 'users:write'], org);
    const names: string[] = [];
    for (let i = 0; i < 5; i++) {
      const userName = unique(`page${i}-`);
      names.push(userName);
      expect((await helloid('POST', '/api/v1/users', key, { userName, isEnabled: i % 2 === 0 })).status).toBe(200);
    }
    const all = await curl('GET', '/api/v1/users', key);
    expect(all.status).toBe(200);
    expect(all.body).toHaveLength(6); // the key's owner and the five
    const page = await curl('GET', '/api/v1/users?take=2&skip=2', key);
    expect(page.body.map((u: { userName: string }) => u.userName)).toEqual([names[1], names[2]]);
    const enabled = await helloid('GET', '/api/v1/users?enabled=true', key);
    expect(enabled.body.every((u: { isEnabled: boolean }) => u.isEnabled)).toBe(true);
    expect(enabled.body).toHaveLength(4);
    const disabled = await helloid('GET', '/api/v1/users?enabled=false', key);
    expect(disabled.body.map((u: { userName: string }) => u.userName)).toEqual([names[1], names[3]]);
    expect((await helloid('DELETE', `/api/v1/users/${names[0]}`, key)).status).toBe(200);
    expect((await helloid('GET', '/api/v1/users', key)).body).toHaveLength(5);
    const deleted = await helloid('GET', '/api/v1/users?isDeleted=true', key);
    expect(deleted.body).toMatchObject([{ userName: names[0], isDeleted: true }]);
    const bad = await helloid('GET', '/api/v1/users?take=lots', key);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('request.invalid');
  });

  it('403 for a key without users:read', async () => {
    const { key } = await keyOf(['admin'], ['users:write']);
    expect((await helloid('GET', '/api/v1/users', key)).status).toBe(403);
  });
});

describe('PUT /api/v1/users/{…}', () => {
  it("applies the documentation's sample body: names, password, enabled, identifier object, attributes", async () => {
    const { key } = await keyOf();
    const created = await helloid('POST', '/api/v1/users', key, { userName: unique('upd-'), isEnabled: false });
    const newName = unique('j.doe-');
    const res = await curl(
      'PUT',
      `/api/v1/users/${created.body.userName}`,
      key,
      JSON.stringify({
        firstName: 'Joey',
        lastName: 'Doe',
        password: 'hfDXpNYLUEGcar[Hh+7)e}N[,Sp*;^jZ',
        options: 0,
        isEnabled: true,
        isLocked: false,
        resetMFA: false,
        mustChangePassword: false,
        contactEmail: `${newName}@email.test`,
        userAttributes: { PhoneNumber: '003112300456', qr: '2N468S48x425' },
        IdentifierObject: { UserName: newName, ImmutableId: 'uniqueIdentifier' },
      }),
    );
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({
      userName: newName,
      firstName: 'Joey',
      isEnabled: true,
      immutableId: 'uniqueIdentifier',
      contactEmail: `${newName}@email.test`,
    });
    const login = await t.req('POST', '/v1/auth/login', { json: { username: newName, password: 'hfDXpNYLUEGcar[Hh+7)e}N[,Sp*;^jZ' } });
    expect(login.status).toBe(200);
  });

  it('isLocked: false ends a sign-in back-off; resetMFA: true clears MFA', async () => {
    const { key } = await keyOf();
    const member = await t.createUser({});
    for (let i = 0; i < 6; i++)
      await t.req('POST', '/v1/auth/login', { json: { username: member.userName, password: `wrong ${i} wrong` } });
    expect((await helloid('GET', `/api/v1/users/${member.id}`, key)).body.isLocked).toBe(true);
    expect((await t.req('POST', '/v1/auth/login', { json: { username: member.userName, password: member.password } })).status).toBe(429);
    const res = await helloid('PUT', `/api/v1/users/${member.userName}`, key, { isLocked: false, resetMFA: true });
    expect(res.status).toBe(200);
    expect(res.body.isLocked).toBe(false);
    expect((await t.req('POST', '/v1/auth/login', { json: { username: member.userName, password: member.password } })).status).toBe(200);
  });

  it('a lower rank cannot change a higher one (403); a password the policy refuses is a 400', async () => {
    const { key } = await keyOf(['admin']);
    const owner = await t.createUser({ roles: ['owner'] });
    const res = await helloid('PUT', `/api/v1/users/${owner.userName}`, key, { firstName: 'Mallory' });
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('auth.forbidden');
    expect((await t.app.services.users.lookup.findById(owner.id))?.firstName).not.toBe('Mallory');
    const member = await t.createUser({});
    const weak = await helloid('PUT', `/api/v1/users/${member.id}`, key, { password: 'short' });
    expect(weak.status).toBe(400);
  });

  it('a key without credentials:write cannot set a password', async () => {
    const { key } = await keyOf(['admin'], ['users:read', 'users:write']);
    const member = await t.createUser({});
    const res = await helloid('PUT', `/api/v1/users/${member.id}`, key, { password: 'a brand new password 1' });
    expect(res.status).toBe(403);
  });
});

describe('DELETE /api/v1/users/{…}', () => {
  it('soft-deletes by user name (curl example); the user cannot sign in; a second delete is 404', async () => {
    const { key } = await keyOf();
    const member = await t.createUser({});
    const res = await curl('DELETE', `/api/v1/users/${member.userName}`, key);
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    expect((await t.req('POST', '/v1/auth/login', { json: { username: member.userName, password: member.password } })).status).toBe(401);
    expect((await helloid('DELETE', `/api/v1/users/${member.id}`, key)).status).toBe(404);
  });

  it('403 for a lower rank and for a key without users:write', async () => {
    const { key: admin } = await keyOf(['admin']);
    const owner = await t.createUser({ roles: ['owner'] });
    expect((await helloid('DELETE', `/api/v1/users/${owner.id}`, admin)).status).toBe(403);
    const { key: readOnly } = await keyOf(['owner'], ['users:read']);
    expect((await helloid('DELETE', `/api/v1/users/${owner.id}`, readOnly)).status).toBe(403);
  });
});

describe('seed 003 routes keep working beside the user API', () => {
  it('POST /api/v1/users/{userName} is still the credential alias', async () => {
    const { key } = await keyOf();
    const member = await t.createUser({});
    const res = await helloid('POST', `/api/v1/users/${member.userName}`, key, {
      userName: member.userName,
      password: 'another good password 9',
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: true, userName: member.userName });
  });
});
