import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Scope } from '../../src/auth/scopes.js';
import { rawRequest } from '../helpers/raw-http.js';
import { startSmtpSink } from '../helpers/smtp.js';
import { buildTestApp, type TestApp, unique } from '../helpers/test-app.js';

/** Seed 003 (HelloID / Tools4ever): POST /api/v1/users/addUserCredentials… @see issue 6, issue 10 */

let t: TestApp;
let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
const deactivated: string[] = [];

beforeAll(async () => {
  smtp = await startSmtpSink();
  t = await buildTestApp({ PORTCULLIS_SMTP_URL: smtp.url, PORTCULLIS_SMTP_FROM: 'Portcullis <no-reply@example.test>' });
  // What the sessions domain registers: here it records which users had their sessions revoked.
  t.app.services.events.on('user.access_revoked', ({ userId }) => {
    deactivated.push(userId);
  });
});
afterAll(async () => {
  await t?.close();
  await smtp?.close();
});

interface Key {
  id: number;
  key: string;
  secret: string;
}

/** An administrator of `organizationId` and one of its API keys. */
async function adminKey(organizationId = t.defaultOrgId, scopes: Scope[] = ['credentials:write']): Promise<Key> {
  const admin = await t.createUser({ organizationId, roles: ['admin'] });
  return t.createApiKey(admin.id, scopes);
}

const basic = (k: Key) => `Basic ${Buffer.from(`${k.key}:${k.secret}`).toString('base64')}`;
const hostOf = () => new URL(t.url).host;

/** The request Tools4ever's HelloID PowerShell connector sends (Invoke-RestMethod, ConvertTo-Json on PS 5.1). */
function toolsForever(path: string, k: Key, fields: Record<string, unknown>): string {
  const body = `{\r\n${Object.entries(fields)
    .map(([name, v]) => `    ${JSON.stringify(name)}:  ${JSON.stringify(v)}`)
    .join(',\r\n')}\r\n}`;
  return [
    `POST ${path} HTTP/1.1`,
    'User-Agent: Mozilla/5.0 (Windows NT; Windows NT 10.0; en-US) WindowsPowerShell/5.1.17763.1007',
    `authorization: ${basic(k)}`,
    'Content-Type: application/json',
    `Host: ${hostOf()}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

/** HelloID's own curl example: `curl -u key:secret -X POST …/api/v1/users/{userName} -H "Content-Type:application/json" -d "{ 'userName': …}"`. */
function curlExample(path: string, k: Key, body: string, contentType: string | null = 'Content-Type:application/json'): string {
  return [
    `POST ${path} HTTP/1.1`,
    `Host: ${hostOf()}`,
    `Authorization: ${basic(k)}`,
    'User-Agent: curl/8.5.0',
    'Accept: */*',
    ...(contentType ? [contentType] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

const send = (path: string, k: Key | undefined, json: unknown, headers: Record<string, string> = {}) =>
  t.req('POST', path, { json, headers: { ...(k ? { authorization: basic(k) } : {}), ...headers } });

async function stored(id: string) {
  return (await t.app.services.users.lookup.findById(id))!;
}

async function passwordIs(id: string, password: string): Promise<boolean> {
  const user = await stored(id);
  return t.app.services.hasher.verify(user.passwordHash!, password);
}

const NEW_PASSWORD = '$eCreTP@$$W0rD-42';

describe('seed 003: addUserCredentials', () => {
  it('sets the password by user name as Tools4ever sends it: 200, hash updated, sessions revoked, audited, user mailed', async () => {
    const key = await adminKey();
    const user = await t.createUser({});
    const before = await stored(user.id);
    const res = await rawRequest(
      t.url,
      toolsForever(`/api/v1/users/addUserCredentials/${user.userName}`, key, { userName: user.userName, password: NEW_PASSWORD }),
    );
    expect(res.status, res.text).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual({
      success: true,
      code: 0,
      message: 'The credentials were updated.',
      userGUID: user.id,
      userName: user.userName,
      mustChangePassword: false,
    });

    const after = await stored(user.id);
    expect(after.passwordHash).not.toBe(before.passwordHash);
    expect(await passwordIs(user.id, NEW_PASSWORD)).toBe(true);
    expect(await passwordIs(user.id, user.password)).toBe(false);
    expect(after.requireResetPassword).toBe(false);
    expect(after.passwordChangedAt! >= before.passwordChangedAt!).toBe(true);
    expect(deactivated).toContain(user.id);

    const [event] = await t.app.services.audit.list({ organizationId: t.defaultOrgId, action: 'user.password_set', limit: 1 });
    expect(event).toMatchObject({
      actorType: 'api_key',
      actorId: String(key.id),
      targetType: 'user',
      targetId: user.id,
      outcome: 'success',
      data: { mustChangePassword: false, revokedSessions: true },
    });

    const mail = await smtp.waitFor((m) => m.to.includes(user.email));
    expect(mail.subject).toBe('Your password was changed');
    expect(mail.text).toContain(user.userName);
    expect(mail.text).not.toContain(NEW_PASSWORD);
    expect(t.logs()).not.toContain(NEW_PASSWORD);
  });

  it('finds the user by GUID (any case, with or without braces) and by a user name that looks like a GUID', async () => {
    const key = await adminKey();
    const user = await t.createUser({});
    for (const guid of [user.id, user.id.toUpperCase(), `{${user.id}}`]) {
      const res = await send(`/api/v1/users/addUserCredentials/${encodeURIComponent(guid)}`, key, {
        userName: user.userName,
        password: `${NEW_PASSWORD}-${guid.length}`,
      });
      expect(res.status, guid).toBe(200);
      expect(res.body.userGUID).toBe(user.id);
      expect(await passwordIs(user.id, `${NEW_PASSWORD}-${guid.length}`)).toBe(true);
    }
    // No user has this id, so the GUID-shaped value is then tried as a user name.
    const guidNamed = await t.createUser({ userName: randomUUID() });
    const byName = await send(`/api/v1/users/addUserCredentials/${guidNamed.userName}`, key, {
      userName: guidNamed.userName,
      password: NEW_PASSWORD,
    });
    expect(byName.status).toBe(200);
    expect(byName.body.userGUID).toBe(guidNamed.id);
  });

  it('finds the user by Windows SID and validates the SID', async () => {
    const key = await adminKey();
    const user = await t.createUser({});
    const sid = `S-1-5-21-3623811015-3361044348-30300820-${1000 + Math.floor(Math.random() * 100000)}`;
    expect((await t.req('PATCH', `/v1/users/${user.id}`, { apiKey: t.adminKey, json: { adSid: sid } })).status).toBe(200);
    const res = await rawRequest(
      t.url,
      toolsForever(`/api/v1/users/addUserCredentialsByUserSid/${sid}`, key, { userName: user.userName, password: NEW_PASSWORD }),
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: true, userGUID: user.id });
    expect(await passwordIs(user.id, NEW_PASSWORD)).toBe(true);

    const lower = await send(`/api/v1/users/addUserCredentialsByUserSid/s${sid.slice(1)}`, key, {
      userName: user.userName,
      password: `${NEW_PASSWORD}!`,
    });
    expect(lower.status).toBe(200);

    const bad = await send('/api/v1/users/addUserCredentialsByUserSid/X-1-5-21', key, { userName: user.userName, password: NEW_PASSWORD });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ success: false, error: 'request.invalid', status: 400, code: 3 });
    expect(bad.body.details).toContain('params.adSid');

    const unknown = await send('/api/v1/users/addUserCredentialsByUserSid/S-1-5-21-1-2-3-999999', key, {
      userName: user.userName,
      password: NEW_PASSWORD,
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toBe('User not found');
  });

  it('serves HelloID’s curl example path as an alias; its single-quoted body is the seed’s 400 and changes nothing', async () => {
    const key = await adminKey();
    const user = await t.createUser({});
    const before = (await stored(user.id)).passwordHash;
    const res = await rawRequest(
      t.url,
      curlExample(`/api/v1/users/${user.userName}`, key, `{ 'userName': '${user.userName}', 'password': '${NEW_PASSWORD}' }`),
    );
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      success: false,
      code: 3,
      message: 'The request body could not be parsed.',
      error: 'request.malformed_body',
      status: 400,
    });
    expect((await stored(user.id)).passwordHash).toBe(before);

    const ok = await rawRequest(
      t.url,
      curlExample(`/api/v1/users/${user.userName}`, key, `{ "userName": "${user.userName}", "password": "${NEW_PASSWORD}" }`),
    );
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ success: true, code: 0, userGUID: user.id, userName: user.userName });
    expect(await passwordIs(user.id, NEW_PASSWORD)).toBe(true);
  });

  it('requires Content-Type: application/json: missing or other types are the seed’s 400, not 415', async () => {
    const key = await adminKey();
    const user = await t.createUser({});
    const before = (await stored(user.id)).passwordHash;
    const json = JSON.stringify({ userName: user.userName, password: NEW_PASSWORD });
    const path = `/api/v1/users/addUserCredentials/${user.userName}`;
    const missing = await rawRequest(t.url, curlExample(path, key, json, null));
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/scim+json', 'text/json']) {
      const res = await rawRequest(t.url, curlExample(path, key, json, `Content-Type: ${type}`));
      expect(res.status, type).toBe(400);
      expect(res.body, type).toEqual({
        success: false,
        code: 3,
        message: 'The request is invalid.',
        error: 'request.invalid',
        status: 400,
        details: ['headers.content-type'],
      });
    }
    expect(missing.status).toBe(400);
    expect(missing.body).toEqual({
      success: false,
      code: 3,
      message: 'The request is invalid.',
      error: 'request.invalid',
      status: 400,
      details: ['headers.content-type'],
    });
    expect((await stored(user.id)).passwordHash).toBe(before);

    const withCharset = await rawRequest(t.url, curlExample(path, key, json, 'Content-Type: application/json; charset=utf-8'));
    expect(withCharset.status).toBe(200);
  });

  it('answers 400 with each validation error, and changes nothing', async () => {
    const key = await adminKey();
    const user = await t.createUser({});
    const before = (await stored(user.id)).passwordHash;
    const path = `/api/v1/users/addUserCredentials/${user.userName}`;

    const missing = await send(path, key, {});
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ success: false, error: 'request.invalid', status: 400 });
    expect(missing.body.details).toEqual(expect.arrayContaining(['body.userName', 'body.password']));

    const mismatch = await send(path, key, { userName: `${user.userName}x`, password: NEW_PASSWORD });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body).toMatchObject({ error: 'request.invalid', details: ['body.userName'] });

    const short = await send(path, key, { userName: user.userName, password: 'Sh0rt!' });
    expect(short.status).toBe(400);
    expect(short.body).toEqual({
      success: false,
      code: 3,
      message: 'The password does not meet the policy.',
      error: 'password.policy_violation',
      status: 400,
      details: ['body.password: too_short:min=8'],
    });

    const common = await send(path, key, { userName: user.userName, password: 'password' });
    expect(common.body.details).toEqual(['body.password: common_password']);

    const sameAsName = await t.createUser({ userName: unique('Pw') });
    const own = await send(`/api/v1/users/addUserCredentials/${sameAsName.userName}`, key, {
      userName: sameAsName.userName,
      password: sameAsName.userName,
    });
    expect(own.status).toBe(400);
    expect(own.body.details).toEqual(['body.password: matches_user_name']);

    // Several reasons at once are each listed.
    const tiny = await t.createUser({ userName: 'abc12' + unique('').slice(-2) });
    const both = await send(`/api/v1/users/addUserCredentials/${tiny.userName}`, key, { userName: tiny.userName, password: tiny.userName });
    expect(both.body.details).toEqual(['body.password: too_short:min=8', 'body.password: matches_user_name']);

    expect((await stored(user.id)).passwordHash).toBe(before);
    expect(deactivated).not.toContain(user.id);
  });

  it('answers 401 without or with invalid credentials, 403 without credentials:write', async () => {
    const key = await adminKey();
    const user = await t.createUser({});
    const before = (await stored(user.id)).passwordHash;
    const path = `/api/v1/users/addUserCredentials/${user.userName}`;
    const body = { userName: user.userName, password: NEW_PASSWORD };

    const none = await send(path, undefined, body);
    expect(none.status).toBe(401);
    expect(none.body).toEqual({
      success: false,
      code: 16,
      message: 'Authentication is required.',
      error: 'auth.unauthenticated',
      status: 401,
    });

    const wrong = await send(path, { ...key, secret: 'pcs_wrong' }, body);
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ success: false, code: 16, error: 'auth.invalid_credentials', status: 401 });

    const readOnly = await adminKey(t.defaultOrgId, ['users:write', 'users:read']);
    const forbidden = await rawRequest(t.url, toolsForever(path, readOnly, body));
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toEqual({
      success: false,
      code: 7,
      message: 'You do not have permission to do this.',
      error: 'auth.forbidden',
      status: 403,
    });
    // The other guard forms work too.
    const viaHeader = await t.req('POST', path, { apiKey: key.secret, json: body });
    expect(viaHeader.status).toBe(200);
    expect((await stored(user.id)).passwordHash).not.toBe(before);
  });

  it('answers 404 "User not found" for unknown, deleted and other organizations’ users', async () => {
    const key = await adminKey();
    const notFound = { success: false, code: 5, message: 'User not found', error: 'resource.not_found', status: 404 };
    const unknown = await rawRequest(
      t.url,
      toolsForever('/api/v1/users/addUserCredentials/nobody-here', key, { userName: 'nobody-here', password: NEW_PASSWORD }),
    );
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual(notFound);
    expect((await send(`/api/v1/users/addUserCredentials/${randomUUID()}`, key, { userName: 'x', password: NEW_PASSWORD })).body).toEqual(
      notFound,
    );

    const victim = await t.createUser({});
    const before = (await stored(victim.id)).passwordHash;
    const otherOrg = await t.createOrg();
    const foreignKey = await adminKey(otherOrg);
    for (const path of [
      `/api/v1/users/addUserCredentials/${victim.userName}`,
      `/api/v1/users/addUserCredentials/${victim.id}`,
      `/api/v1/users/${victim.userName}`,
    ]) {
      const res = await send(path, foreignKey, { userName: victim.userName, password: NEW_PASSWORD });
      expect(res.status, path).toBe(404);
      expect(res.body).toEqual(notFound);
    }
    expect((await stored(victim.id)).passwordHash).toBe(before);

    const gone = await t.createUser({});
    await t.req('DELETE', `/v1/users/${gone.id}`, { apiKey: t.adminKey });
    expect(
      (await send(`/api/v1/users/addUserCredentials/${gone.userName}`, key, { userName: gone.userName, password: NEW_PASSWORD })).status,
    ).toBe(404);
  });

  it('sets requireResetPassword from mustChangePassword, defaulting to the organization policy', async () => {
    const key = await adminKey();
    const user = await t.createUser({});
    const path = `/api/v1/users/addUserCredentials/${user.userName}`;
    const yes = await send(path, key, { userName: user.userName, password: NEW_PASSWORD, mustChangePassword: true });
    expect(yes.body.mustChangePassword).toBe(true);
    expect((await stored(user.id)).requireResetPassword).toBe(true);
    const no = await send(path, key, { userName: user.userName, password: `${NEW_PASSWORD}2` });
    expect(no.body.mustChangePassword).toBe(false);
    expect((await stored(user.id)).requireResetPassword).toBe(false);

    const org = await t.createOrg();
    await t.req('PATCH', `/v1/organizations/${org}`, { apiKey: t.adminKey, json: { policy: { mustChangePasswordOnAdminSet: true } } });
    const orgKey = await adminKey(org);
    const member = await t.createUser({ organizationId: org });
    const byPolicy = await send(`/api/v1/users/addUserCredentials/${member.userName}`, orgKey, {
      userName: member.userName,
      password: NEW_PASSWORD,
    });
    expect(byPolicy.body.mustChangePassword).toBe(true);
    expect((await stored(member.id)).requireResetPassword).toBe(true);
    const explicit = await send(`/api/v1/users/addUserCredentials/${member.userName}`, orgKey, {
      userName: member.userName,
      password: `${NEW_PASSWORD}3`,
      mustChangePassword: false,
    });
    expect(explicit.body.mustChangePassword).toBe(false);
  });

  it('goes through users.setPassword, the method the CLI’s admin set-password uses', async () => {
    const spy = vi.spyOn(t.app.services.users, 'setPassword');
    try {
      const key = await adminKey();
      const user = await t.createUser({});
      await send(`/api/v1/users/addUserCredentials/${user.userName}`, key, { userName: user.userName, password: NEW_PASSWORD });
      expect(spy).toHaveBeenCalledTimes(1);
      expect(spy.mock.calls[0]![1].id).toBe(user.id);
      expect(spy.mock.calls[0]![3]).toEqual({ mustChange: undefined });
    } finally {
      spy.mockRestore();
    }
  });

  it('documents the three routes in /openapi.json', async () => {
    const doc = (await t.req('GET', '/openapi.json')).body;
    for (const path of [
      '/api/v1/users/addUserCredentials/{userNameOrGUID}',
      '/api/v1/users/addUserCredentialsByUserSid/{adSid}',
      '/api/v1/users/{identifier}',
    ]) {
      expect(doc.paths[path]?.post?.responses, path).toHaveProperty('200');
      expect(Object.keys(doc.paths[path].post.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403', '404']));
    }
  });
});

describe('directory fields', () => {
  it('keeps adSid and externalId unique per organization and searchable through GET /v1/users', async () => {
    const sid = `S-1-5-21-7-8-9-${Math.floor(Math.random() * 1e6)}`;
    const externalId = unique('emp-');
    const a = await t.req('POST', '/v1/users', { apiKey: t.adminKey, json: { userName: unique('d'), adSid: sid, externalId } });
    expect(a.status).toBe(201);
    const dupSid = await t.req('POST', '/v1/users', { apiKey: t.adminKey, json: { userName: unique('d'), adSid: sid } });
    expect(dupSid.status).toBe(409);
    expect(dupSid.body).toMatchObject({ error: 'resource.conflict', details: ['body.adSid'] });
    const dupExt = await t.req('POST', '/v1/users', { apiKey: t.adminKey, json: { userName: unique('d'), externalId } });
    expect(dupExt.status).toBe(409);
    expect(dupExt.body.details).toEqual(['body.externalId']);

    // Another organization may use the same values.
    const org = await t.createOrg();
    const other = await t.req('POST', '/v1/users', {
      apiKey: t.adminKey,
      json: { userName: unique('d'), adSid: sid, externalId, organizationId: org },
    });
    expect(other.status).toBe(201);

    const bySid = await t.req('GET', `/v1/users?adSid=${sid}`, { apiKey: t.adminKey });
    expect(bySid.body.users.map((u: any) => u.id)).toEqual([a.body.id]);
    const byExt = await t.req('GET', `/v1/users?externalId=${externalId}`, { apiKey: t.adminKey });
    expect(byExt.body.users.map((u: any) => u.id)).toEqual([a.body.id]);
    const inOther = await t.req('GET', `/v1/users?adSid=${sid}&organizationId=${org}`, { apiKey: t.adminKey });
    expect(inOther.body.users.map((u: any) => u.id)).toEqual([other.body.id]);
    const none = await t.req('GET', '/v1/users?adSid=S-1-5-21-0-0-0-0', { apiKey: t.adminKey });
    expect(none.body.users).toEqual([]);
  });
});
