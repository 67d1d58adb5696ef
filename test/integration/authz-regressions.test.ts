import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Scope } from '../../src/auth/scopes.js';
import { startSmtpSink } from '../helpers/smtp.js';
import { ADMIN, buildTestApp, type TestApp, unique } from '../helpers/test-app.js';

/**
 * @see issue 14 — the account takeovers an attack on the running service walked through, each
 * replayed over real HTTP as the attacker sent it. Every test here failed on the code before the
 * authorization policy (src/auth/policy.ts).
 */

let t: TestApp;
let smtp: Awaited<ReturnType<typeof startSmtpSink>>;

beforeAll(async () => {
  smtp = await startSmtpSink();
  t = await buildTestApp({ PORTCULLIS_SMTP_URL: smtp.url });
});
afterAll(async () => {
  await t?.close();
  await smtp?.close();
});

type Key = { id: number; key: string; secret: string };
const basic = (k: Key) => `Basic ${Buffer.from(`${k.key}:${k.secret}`).toString('base64')}`;

async function signIn(username: string, password: string): Promise<{ status: number; token: string }> {
  const res = await t.req('POST', '/v1/auth/login', { json: { username, password } });
  return { status: res.status, token: res.body?.token ?? '' };
}

/** An organization with an owner and an admin, each signed in. */
async function organization() {
  const org = await t.createOrg();
  const owner = await t.createUser({ organizationId: org, roles: ['owner'] });
  const admin = await t.createUser({ organizationId: org, roles: ['admin'] });
  return {
    org,
    owner: { ...owner, token: (await signIn(owner.userName, owner.password)).token },
    admin: { ...admin, token: (await signIn(admin.userName, admin.password)).token },
  };
}

/** What an attacker holding an admin's session does first: mint a narrow key over the API. */
async function keyOverApi(token: string, scopes: Scope[]): Promise<Key> {
  const res = await t.req('POST', '/v1/api-keys', { token, json: { name: unique('k'), scopes } });
  expect(res.status, res.text).toBe(201);
  return { id: res.body.id, key: res.body.key, secret: res.body.clientSecret };
}

const stored = async (id: string) => (await t.app.services.users.lookup.findById(id))!;

describe('finding 1: superadmin takeover through seed 003', () => {
  it("an admin's credentials:write key cannot set the superadmin's password", async () => {
    const admin = await t.createUser({ roles: ['admin'] });
    const key = await keyOverApi((await signIn(admin.userName, admin.password)).token, ['credentials:write']);
    const stolen = `attacker-${unique('pw')}-Secret!`;
    const res = await t.req('POST', `/api/v1/users/addUserCredentials/${ADMIN.userName}`, {
      json: { userName: ADMIN.userName, password: stolen },
      headers: { authorization: basic(key) },
    });
    expect(res.status, res.text).toBe(403);
    expect(res.body).toMatchObject({ success: false, error: 'auth.forbidden', status: 403 });
    expect((await signIn(ADMIN.userName, stolen)).status).toBe(401);
    expect((await signIn(ADMIN.userName, ADMIN.password)).status).toBe(200);
  });

  it("an admin of any organization cannot set its owner's password (nor through the HelloID alias)", async () => {
    const { owner, admin } = await organization();
    const key = await keyOverApi(admin.token, ['credentials:write']);
    const before = (await stored(owner.id)).passwordHash;
    for (const path of [`/api/v1/users/addUserCredentials/${owner.userName}`, `/api/v1/users/${owner.id}`]) {
      const res = await t.req('POST', path, {
        json: { userName: owner.userName, password: `attacker-${unique('pw')}-Secret!` },
        headers: { authorization: basic(key) },
      });
      expect(res.status, `${path} ${res.text}`).toBe(403);
    }
    expect((await stored(owner.id)).passwordHash).toBe(before);
    expect((await signIn(owner.userName, owner.password)).status).toBe(200);
  });

  it('an admin still sets a member’s password (the seed’s purpose)', async () => {
    const { org, admin } = await organization();
    const member = await t.createUser({ organizationId: org });
    const key = await keyOverApi(admin.token, ['credentials:write']);
    const fresh = `helloid-${unique('pw')}-Secret!`;
    const res = await t.req('POST', `/api/v1/users/addUserCredentials/${member.userName}`, {
      json: { userName: member.userName, password: fresh },
      headers: { authorization: basic(key) },
    });
    expect(res.status, res.text).toBe(200);
    expect((await signIn(member.userName, fresh)).status).toBe(200);
  });
});

describe('finding 4: an API key takes over its owner', () => {
  it('a logins:read key cannot change the owner’s email, so a reset never goes to the attacker', async () => {
    const victim = await t.createUser({ roles: ['admin'] });
    const key = await t.createApiKey(victim.id, ['logins:read']);
    const res = await t.req('POST', '/v1/auth/user', { apiKey: key.secret, json: { user: { email: 'attacker@evil.test' } } });
    expect(res.status, res.text).toBe(403);
    expect((await stored(victim.id)).email).toBe(victim.email);
  });

  it('even a key with every scope cannot change the email, rotate the MFA secret or request verification mail', async () => {
    const victim = await t.createUser({ roles: ['admin'] });
    const key = await t.createApiKey(victim.id);
    const email = await t.req('POST', '/v1/auth/user', { apiKey: key.secret, json: { user: { email: 'attacker@evil.test' } } });
    expect(email.status, email.text).toBe(403);
    const mfa = await t.req('POST', '/v1/auth/user', { apiKey: key.secret, json: { regenerateTempMfaSecret: true } });
    expect(mfa.status, mfa.text).toBe(403);
    expect(mfa.text).not.toMatch(/tempOtpSecret|otpauth/);
    const verify = await t.req('POST', '/v1/auth/email/verify/request', { apiKey: key.secret });
    expect(verify.status, verify.text).toBe(403);
    expect((await stored(victim.id)).email).toBe(victim.email);
  });

  it('a key with profile:write (Babel’s Write bit) still updates ordinary profile fields', async () => {
    const owner = await t.createUser({});
    const key = await t.createApiKey(owner.id, ['profile:write']);
    const res = await t.req('POST', '/v1/auth/user', {
      apiKey: key.secret,
      json: { user: { firstName: 'Ada', email: owner.email } },
      headers: { 'content-type': 'application/json-patch+json', accept: 'text/plain' },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.user.firstName).toBe('Ada');
    const narrow = await t.createApiKey(owner.id, ['apikeys:write']);
    const refused = await t.req('POST', '/v1/auth/user', { apiKey: narrow.secret, json: { user: { firstName: 'Eve' } } });
    expect(refused.status).toBe(403);
    expect((await stored(owner.id)).firstName).toBe('Ada');
  });

  it('a key cannot switch off requireMfa without organizations:write; a superadmin key with no scopes creates no organization', async () => {
    const { org, owner } = await organization();
    const key = await t.createApiKey(owner.id, ['logins:read']);
    await t.app.services.organizations.update(t.context(), org, { policy: { requireMfa: true } });
    const res = await t.req('PATCH', `/v1/organizations/${org}`, { apiKey: key.secret, json: { policy: { requireMfa: false } } });
    expect(res.status, res.text).toBe(403);
    expect((await t.app.services.organizations.findById(org))?.policy.requireMfa).toBe(true);

    const rootKey = await t.createApiKey(t.adminId, []);
    const name = unique('org');
    const created = await t.req('POST', '/v1/organizations', { apiKey: rootKey.secret, json: { name } });
    expect(created.status, created.text).toBe(403);
    expect(await t.app.services.organizations.findByName(name)).toBeUndefined();
  });
});

describe('keys minting keys', () => {
  it('a key cannot create a key with a scope it lacks, and the answer names the scope (@see issue 16)', async () => {
    const admin = await t.createUser({ roles: ['admin'] });
    const key = await t.createApiKey(admin.id, ['apikeys:write', 'logins:read']);
    const res = await t.req('POST', '/v1/api-keys', { apiKey: key.secret, json: { name: unique('k'), scopes: ['logins:reveal'] } });
    expect(res.status, res.text).toBe(403);
    expect(res.body).toMatchObject({ error: 'auth.forbidden', details: ['body.scopes: logins:reveal'] });
    const token = (await signIn(admin.userName, admin.password)).token;
    const fromSession = await t.req('POST', '/v1/api-keys', { token, json: { name: unique('k'), scopes: ['logins:reveal'] } });
    expect(fromSession.status, fromSession.text).toBe(201);
  });
});

describe('finding 5: admin → owner takeover', () => {
  it('an admin cannot change the owner’s email, demote or suspend the owner', async () => {
    const { owner, admin } = await organization();
    const email = await t.req('PATCH', `/v1/users/${owner.id}`, { token: admin.token, json: { email: 'attacker@evil.test' } });
    expect(email.status, email.text).toBe(403);
    const demote = await t.req('PATCH', `/v1/users/${owner.id}`, { token: admin.token, json: { roles: ['member'] } });
    expect(demote.status, demote.text).toBe(403);
    const del = await t.req('DELETE', `/v1/users/${owner.id}`, { token: admin.token });
    expect(del.status, del.text).toBe(403);
    const after = await stored(owner.id);
    expect(after).toMatchObject({ email: owner.email, roles: ['owner'], state: 'ACTIVE' });
  });

  it('an admin’s SCIM key cannot suspend the owner with active "False"', async () => {
    const { owner, admin } = await organization();
    const key = await keyOverApi(admin.token, ['users:write']);
    const res = await t.req('PATCH', `/scim/v2/Users/${owner.id}`, {
      headers: { authorization: `Bearer ${key.secret}`, 'content-type': 'application/scim+json' },
      body: JSON.stringify({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'Replace', path: 'active', value: 'False' }],
      }),
    });
    expect(res.status, res.text).toBe(403);
    expect((await stored(owner.id)).state).toBe('ACTIVE');
    expect((await signIn(owner.userName, owner.password)).status).toBe(200);
  });

  it('nobody grants a rank above their own; the last owner keeps ownership', async () => {
    const { org, owner, admin } = await organization();
    const member = await t.createUser({ organizationId: org });
    const promote = await t.req('PATCH', `/v1/users/${member.id}`, { token: admin.token, json: { roles: ['owner'] } });
    expect(promote.status, promote.text).toBe(403);
    const create = await t.req('POST', '/v1/users', { token: admin.token, json: { userName: unique('u'), roles: ['owner'] } });
    expect(create.status, create.text).toBe(403);
    const asAdmin = await t.req('PATCH', `/v1/users/${member.id}`, { token: admin.token, json: { roles: ['admin'] } });
    expect(asAdmin.status, asAdmin.text).toBe(200);

    const last = await t.req('PATCH', `/v1/users/${owner.id}`, { apiKey: t.adminKey, json: { roles: ['admin'] } });
    expect(last.status, last.text).toBe(409);
    expect(last.body).toMatchObject({ error: 'user.last_owner', code: 9 });
    const second = await t.createUser({ organizationId: org, roles: ['owner'] });
    const demoted = await t.req('PATCH', `/v1/users/${second.id}`, { token: owner.token, json: { roles: ['admin'] } });
    expect(demoted.status, demoted.text).toBe(200);
  });
});

describe('finding 8: a demoted admin loses admin power at once', () => {
  it('demotion revokes the sessions and API keys of the demoted user', async () => {
    const { org, owner, admin } = await organization();
    const key = await t.createApiKey(admin.id, ['users:read']);
    expect((await t.req('GET', '/v1/users', { token: admin.token })).status).toBe(200);
    expect((await t.req('GET', '/v1/users', { apiKey: key.secret })).status).toBe(200);
    const res = await t.req('PATCH', `/v1/users/${admin.id}`, { token: owner.token, json: { roles: ['member'] } });
    expect(res.status, res.text).toBe(200);
    expect((await t.req('GET', '/v1/users', { token: admin.token })).status).toBe(401);
    expect((await t.req('GET', '/v1/users', { apiKey: key.secret })).status).toBe(401);
    // Signing in again gives a member's powers only.
    const again = await signIn(admin.userName, admin.password);
    expect((await t.req('GET', '/v1/users', { token: again.token })).status).toBe(403);
    expect(org).toBeTruthy();
  });
});

describe('finding 13: deleting a user revokes their API keys for good', () => {
  it('a key of a deleted user stays dead after the user is reactivated', async () => {
    const { org, owner } = await organization();
    const member = await t.createUser({ organizationId: org });
    const key = await t.createApiKey(member.id);
    expect((await t.req('GET', '/v1/auth/user', { apiKey: key.secret })).status).toBe(200);
    expect((await t.req('DELETE', `/v1/users/${member.id}`, { token: owner.token })).status).toBe(200);
    expect((await t.req('GET', '/v1/auth/user', { apiKey: key.secret })).status).toBe(401);
    const back = await t.req('PATCH', `/v1/users/${member.id}`, { token: owner.token, json: { state: 'ACTIVE' } });
    expect(back.status, back.text).toBe(200);
    expect((await t.req('GET', '/v1/auth/user', { apiKey: key.secret })).status).toBe(401);
  });
});

describe('finding 14: an admin cannot revoke the superadmin’s API keys', () => {
  it('answers 403 and the superadmin’s key keeps working', async () => {
    const admin = await t.createUser({ roles: ['admin'] });
    const token = (await signIn(admin.userName, admin.password)).token;
    const rootKey = await t.createApiKey(t.adminId, ['users:read']);
    const res = await t.req('DELETE', `/v1/api-keys/${rootKey.id}`, { token });
    expect(res.status, res.text).toBe(403);
    expect((await t.req('GET', '/v1/users', { apiKey: rootKey.secret })).status).toBe(200);
    // Its own key, and a member's, an admin revokes.
    const member = await t.createUser({});
    const memberKey = await t.createApiKey(member.id);
    expect((await t.req('DELETE', `/v1/api-keys/${memberKey.id}`, { token })).status).toBe(200);
    expect((await t.req('GET', '/v1/auth/user', { apiKey: memberKey.secret })).status).toBe(401);
  });
});

describe('sensitive self-service: an email change takes effect when the new address is verified', () => {
  it('mails a code to the new address and a notice to the old one; the email changes only with the code', async () => {
    const user = await t.createUser({});
    const token = (await signIn(user.userName, user.password)).token;
    const next = `${unique('new')}@example.test`;
    const res = await t.req('POST', '/v1/auth/user', { token, json: { user: { email: next } } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.user.email).toBe(user.email);
    expect((await stored(user.id)).email).toBe(user.email);

    const notice = await smtp.waitFor((m) => m.to.includes(user.email) && /new email address was requested/i.test(m.subject));
    expect(notice.text).toContain(next);
    const mail = await smtp.waitFor((m) => m.to.includes(next));
    const code = /Verification code: (\S+)/.exec(mail.text)?.[1];
    expect(code).toBeTruthy();
    expect(res.text).not.toContain(code as string);

    const verified = await t.req('POST', '/v1/auth/email/verify', { json: { code } });
    expect(verified.status, verified.text).toBe(200);
    expect(await stored(user.id)).toMatchObject({ email: next, emailVerified: true });
    // Single use.
    expect((await t.req('POST', '/v1/auth/email/verify', { json: { code } })).status).toBe(401);
  });
});
