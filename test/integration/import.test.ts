import { createHash, pbkdf2Sync, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorContext } from '../../src/cli/context.js';
import {
  argon2iCli,
  djangoPbkdf2,
  djangoScrypt,
  FIREBASE_CONFIG,
  firebaseScrypt,
  htpasswdBcrypt,
  opensslMd5Crypt,
  opensslSha512Crypt,
  phcScrypt,
  sshaHash,
} from '../helpers/foreign-hashes.js';
import { buildTestApp, type TestApp, unique } from '../helpers/test-app.js';

/** Import with foreign password hashes, and export (issue 20). @see issue 20 */
let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(async () => t?.close());

const ndjson = (rows: unknown[]): string => rows.map((r) => JSON.stringify(r)).join('\n');

const importLines = (body: string, query = '', apiKey = t.adminKey, contentType = 'application/x-ndjson') =>
  t.req('POST', `/v1/users:import${query}`, { body, apiKey, headers: { 'content-type': contentType } });

const login = (username: string, password: string) => t.req('POST', '/v1/auth/login', { json: { username, password } });

const storedHash = async (userName: string) => (await t.app.services.users.lookup.findByUserName(userName))?.passwordHash;

describe('POST /v1/users:import with hashes made by other tools', () => {
  const makers = {
    'htpasswd -B (bcrypt $2y$)': htpasswdBcrypt,
    'openssl passwd -6 (sha512-crypt)': opensslSha512Crypt,
    'openssl passwd -1 (md5-crypt)': opensslMd5Crypt,
    'python3 hashlib (Django pbkdf2_sha256)': djangoPbkdf2,
    'python3 hashlib (Django scrypt)': djangoScrypt,
    'python3 hashlib (PHC scrypt)': phcScrypt,
    'python3 hashlib ({SSHA512})': sshaHash,
    'argon2 CLI (argon2i)': argon2iCli,
  };
  const users = Object.entries(makers).map(([tool, make], i) => {
    const password = `imported pass ${i} ${randomBytes(3).toString('hex')}`;
    return { tool, userName: unique(`imp${i}-`), password, passwordHash: make(password).passwordHash };
  });

  it('imports each user; each signs in with the original password; the stored hash is argon2id afterwards; a wrong password is refused', async () => {
    const body = ndjson(
      users.map((u) => ({ userName: u.userName, email: `${u.userName}@example.test`, passwordHash: u.passwordHash, groups: ['imported'] })),
    );
    const res = await importLines(body);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ created: users.length, updated: 0, unchanged: 0, failed: 0, errors: [] });
    for (const u of users) {
      expect(await storedHash(u.userName), u.tool).toBe(u.passwordHash);
      const wrong = await login(u.userName, `${u.password}!`);
      expect(wrong.status, u.tool).toBe(401);
      expect(wrong.body.error).toBe('auth.invalid_credentials');
      const ok = await login(u.userName, u.password);
      expect(ok.status, `${u.tool}: ${ok.text}`).toBe(200);
      expect(ok.body.token).toBeTruthy();
      expect(await storedHash(u.userName), u.tool).toMatch(/^\$argon2id\$/);
      // After the rehash the password still works (now against argon2id).
      expect((await login(u.userName, u.password)).status, u.tool).toBe(200);
    }

    // A re-run changes nothing: no duplicates, and the rehashed passwords stay.
    const again = await importLines(body);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ created: 0, updated: 0, unchanged: users.length, failed: 0 });
    for (const u of users) expect(await storedHash(u.userName)).toMatch(/^\$argon2id\$/);
    const byEmail = await t.app.services.users.lookup.countMatching({
      organizationId: t.defaultOrgId,
      email: `${users[0]?.userName}@example.test`,
    });
    expect(byEmail).toBe(1);
  });

  it('wrong passwords against an imported hash count for the back-off like any login', async () => {
    const userName = unique('imp-throttle-');
    const { passwordHash } = htpasswdBcrypt('the right one 123');
    expect((await importLines(ndjson([{ userName, passwordHash }]))).body.created).toBe(1);
    const statuses: number[] = [];
    // PORTCULLIS_LOGIN_FREE_FAILURES is 5: the sixth failure starts the back-off.
    for (let i = 0; i < 6; i++) statuses.push((await login(userName, `wrong guess ${i}`)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 401]);
    const throttled = await login(userName, 'the right one 123');
    expect(throttled.status).toBe(429);
    expect(await storedHash(userName)).toBe(passwordHash);
  });
});

describe('passwords as typed', () => {
  it('a foreign hash of a password that NFKC normalization changes still verifies, and is rehashed to its NFKC form', async () => {
    const userName = unique('imp-nfkc-');
    const typed = 'ﬁve ligatures ﬁne';
    expect(typed.normalize('NFKC')).not.toBe(typed);
    const { passwordHash } = opensslSha512Crypt(typed);
    expect((await importLines(ndjson([{ userName, passwordHash }]))).body.created).toBe(1);
    expect((await login(userName, typed)).status).toBe(200);
    expect(await storedHash(userName)).toMatch(/^\$argon2id\$/);
    expect((await login(userName, typed)).status).toBe(200);
    expect((await login(userName, typed.normalize('NFKC'))).status).toBe(200);
  });
});

describe('per-line errors, idempotent updates, options', () => {
  it('answers {line, field, reason} for each refused line and imports the others', async () => {
    const good = unique('imp-good-');
    const dupe = unique('imp-dupe-');
    const body = [
      JSON.stringify({ userName: good, passwordHash: htpasswdBcrypt('good password 1').passwordHash }),
      '',
      '{not json',
      JSON.stringify({ email: 'no-user-name@example.test' }),
      JSON.stringify({ userName: unique('imp-bad-'), passwordHash: 'plaintext-is-not-a-hash' }),
      JSON.stringify({ userName: dupe }),
      JSON.stringify({ userName: dupe.toUpperCase() }),
      JSON.stringify({ userName: unique('imp-md5-'), passwordHash: createHash('md5').update('x').digest('hex') }),
      JSON.stringify({ userName: unique('imp-attr-'), userAttributes: { constructor: 'x' } }),
      JSON.stringify({ userName: unique('imp-role-'), roles: ['emperor'] }),
    ].join('\n');
    const res = await importLines(body);
    expect(res.status).toBe(200);
    expect(res.body.created).toBe(2);
    expect(res.body.failed).toBe(7);
    const byLine = Object.fromEntries(res.body.errors.map((e: { line: number; field: string }) => [e.line, e.field]));
    expect(byLine).toEqual({
      3: '',
      4: 'userName',
      5: 'passwordHash',
      7: 'userName',
      8: 'passwordHash',
      9: 'userAttributes.constructor',
      10: 'roles',
    });
    expect(res.body.errors.find((e: { line: number }) => e.line === 8).reason).toMatch(/allowUnsalted/);
  });

  it('updates by externalId, userName or email, never duplicating; a dry run writes nothing', async () => {
    const userName = unique('imp-upd-');
    const externalId = unique('ext-');
    expect((await importLines(ndjson([{ userName, externalId, firstName: 'Ann' }]))).body.created).toBe(1);
    const dry = await importLines(ndjson([{ userName: `${userName}-renamed`, externalId, firstName: 'Anna' }]), '?dryRun=true');
    expect(dry.body).toMatchObject({ dryRun: true, created: 0, updated: 1 });
    expect((await t.app.services.users.lookup.findByUserName(userName))?.firstName).toBe('Ann');
    const res = await importLines(ndjson([{ userName: `${userName}-renamed`, externalId, firstName: 'Anna' }]));
    expect(res.body).toMatchObject({ created: 0, updated: 1 });
    const user = await t.app.services.users.lookup.findByUserName(`${userName}-renamed`);
    expect(user).toMatchObject({ firstName: 'Anna', externalId });
    expect(await t.app.services.users.lookup.findByUserName(userName)).toBeUndefined();
  });

  it('unsalted MD5 only with allowUnsalted, which forces a password change at first sign-in', async () => {
    const userName = unique('imp-md5-');
    const body = ndjson([{ userName, passwordHash: createHash('md5').update('legacy password 1').digest('hex') }]);
    expect((await importLines(body)).body.failed).toBe(1);
    const res = await importLines(body, '?allowUnsalted=true');
    expect(res.body.created).toBe(1);
    const ok = await login(userName, 'legacy password 1');
    expect(ok.status).toBe(200);
    expect(ok.body.requireResetPassword).toBe(true);
    expect((await login(userName, 'legacy password 2')).status).toBe(401);
  });

  it('takes a JSON array as well as JSON lines', async () => {
    const userName = unique('imp-array-');
    const res = await importLines(JSON.stringify([{ userName }]), '', t.adminKey, 'application/json');
    expect(res.body).toMatchObject({ created: 1, total: 1 });
  });

  it('refuses more users than PORTCULLIS_IMPORT_MAX_USERS (413)', async () => {
    const res = await importLines(Array.from({ length: 10_001 }, () => '{}').join('\n'));
    expect(res.status).toBe(413);
    expect(res.body.error).toBe('request.too_large');
  });
});

describe('who may import', () => {
  it('an API key without users:import: 403; with it: allowed', async () => {
    const without = await t.createApiKey(t.adminId, ['users:write', 'users:read']);
    const res = await importLines(ndjson([{ userName: unique('imp-scope-') }]), '', without.secret);
    expect(res.status).toBe(403);
    const withScope = await t.createApiKey(t.adminId, ['users:import']);
    expect((await importLines(ndjson([{ userName: unique('imp-scope-') }]), '', withScope.secret)).status).toBe(200);
  });

  it('a member: 403; an admin cannot import owners (per-line refusal)', async () => {
    const member = await t.createUser({ roles: ['member'] });
    const memberKey = await t.createApiKey(member.id);
    expect((await importLines(ndjson([{ userName: unique('imp-m-') }]), '', memberKey.secret)).status).toBe(403);
    const admin = await t.createUser({ roles: ['admin'] });
    const adminKey = await t.createApiKey(admin.id, ['users:import']);
    const res = await importLines(ndjson([{ userName: unique('imp-o-'), roles: ['owner'] }]), '', adminKey.secret);
    expect(res.status).toBe(200);
    expect(res.body.errors).toEqual([{ line: 1, field: 'roles', reason: expect.stringContaining('policy') }]);
  });

  it("another organization's id is a 404 for an owner", async () => {
    const other = await t.createOrg();
    const owner = await t.createUser({ roles: ['owner'] });
    const key = await t.createApiKey(owner.id, ['users:import']);
    const res = await importLines(ndjson([{ userName: unique('imp-x-') }]), `?organizationId=${other}`, key.secret);
    expect(res.status).toBe(404);
    expect(res.body.error).toBe('resource.not_found');
  });

  it('an admin cannot overwrite the password of an owner by importing its user name', async () => {
    const owner = await t.createUser({ roles: ['owner'] });
    const admin = await t.createUser({ roles: ['admin'] });
    const key = await t.createApiKey(admin.id, ['users:import']);
    const line = ndjson([{ userName: owner.userName, passwordHash: htpasswdBcrypt('attacker pw 1').passwordHash }]);
    // Without replacePasswords the owner's own (argon2id) password is kept anyway; with it, the policy refuses.
    expect((await importLines(line, '', key.secret)).body).toMatchObject({ unchanged: 1, errors: [] });
    const res = await importLines(line, '?replacePasswords=true', key.secret);
    expect(res.body.errors).toEqual([{ line: 1, field: 'userName', reason: expect.stringContaining('policy') }]);
    expect((await login(owner.userName, owner.password)).status).toBe(200);
  });
});

describe('direct imports of major exports', () => {
  it('a Keycloak realm export: users, PBKDF2 credentials, roles and groups mapped', async () => {
    const userName = unique('kc-');
    const salt = randomBytes(16);
    const realm = {
      realm: 'acme',
      users: [
        {
          id: randomBytes(16).toString('hex'),
          username: userName,
          email: `${userName}@example.test`,
          emailVerified: true,
          enabled: true,
          firstName: 'Kay',
          lastName: 'Cloak',
          attributes: { department: ['R&D'] },
          credentials: [
            {
              type: 'password',
              secretData: JSON.stringify({
                value: pbkdf2Sync('kc pass 123', salt, 27500, 64, 'sha256').toString('base64'),
                salt: salt.toString('base64'),
              }),
              credentialData: JSON.stringify({ hashIterations: 27500, algorithm: 'pbkdf2-sha256' }),
            },
          ],
          realmRoles: ['default-roles-acme', 'offline_access', 'admin', 'auditor'],
          groups: ['/staff/engineering'],
        },
      ],
    };
    const res = await importLines(JSON.stringify(realm), '?format=keycloak', t.adminKey, 'application/json');
    expect(res.body, res.text).toMatchObject({ created: 1, failed: 0 });
    const user = await t.app.services.users.lookup.findByUserName(userName);
    expect(user).toMatchObject({
      roles: ['admin'],
      groups: ['staff/engineering', 'role:auditor'],
      emailVerified: true,
      userAttributes: { department: 'R&D' },
    });
    expect((await login(userName, 'kc pass 123')).status).toBe(200);
    expect(await storedHash(userName)).toMatch(/^\$argon2id\$/);
  });

  it('an Auth0 export (JSON lines with bcrypt)', async () => {
    const email = `${unique('a0-')}@example.test`;
    const line = {
      user_id: `auth0|${randomBytes(12).toString('hex')}`,
      email,
      email_verified: true,
      given_name: 'Aut',
      family_name: 'Zero',
      passwordHash: htpasswdBcrypt('auth0 pass 1').passwordHash,
    };
    const res = await importLines(`${JSON.stringify(line)}\n`, '?format=auth0');
    expect(res.body).toMatchObject({ created: 1, failed: 0 });
    expect((await t.req('POST', '/v1/auth/login', { json: { email, password: 'auth0 pass 1' } })).status).toBe(200);
    expect((await importLines(`${JSON.stringify(line)}\n`, '?format=auth0')).body).toMatchObject({ created: 0, unchanged: 1 });
  });

  it('a Firebase auth:export file with its hash parameters (firebase-scrypt made the hash)', async () => {
    const email = `${unique('fb-')}@example.test`;
    const { passwordHash, salt } = await firebaseScrypt('firebase pass 1');
    const doc = {
      users: [
        {
          localId: randomBytes(10).toString('hex'),
          email,
          emailVerified: true,
          passwordHash,
          salt,
          displayName: 'Fire Base',
          disabled: false,
        },
      ],
      hashConfig: FIREBASE_CONFIG,
    };
    const res = await importLines(JSON.stringify(doc), '?format=firebase', t.adminKey, 'application/json');
    expect(res.body, res.text).toMatchObject({ created: 1, failed: 0 });
    expect((await t.req('POST', '/v1/auth/login', { json: { email, password: 'firebase pass 2' } })).status).toBe(401);
    expect((await t.req('POST', '/v1/auth/login', { json: { email, password: 'firebase pass 1' } })).status).toBe(200);
    expect(await storedHash(email)).toMatch(/^\$argon2id\$/);
  });
});

describe('export', () => {
  it('round-trips through import into another instance: users sign in with the same password; no TOTP seeds or key hashes', async () => {
    const org = await t.createOrg(unique('exp-org-'));
    const a = await t.createUser({ organizationId: org, roles: ['admin'] });
    const b = await t.createUser({ organizationId: org });
    await t.app.services.users.update(t.context(org), b.id, { groups: ['g1'], roles: ['member'] });
    const lines: unknown[] = [];
    for await (const u of t.app.services.portability.exportUsers(operatorContext(org), org)) lines.push(u);
    expect(lines).toHaveLength(2);
    const text = lines.map((l) => JSON.stringify(l)).join('\n');
    expect(text).not.toMatch(/totp|secret|apiKey/i);
    expect(lines).toContainEqual(
      expect.objectContaining({
        userName: a.userName,
        roles: ['admin'],
        mfaEnabled: false,
        passwordHash: expect.stringMatching(/^\$argon2id\$/),
      }),
    );

    const t2 = await buildTestApp();
    try {
      const report = await t2.app.services.portability.importText(operatorContext(t2.defaultOrgId), text, {});
      expect(report).toMatchObject({ created: 2, failed: 0 });
      expect((await t2.req('POST', '/v1/auth/login', { json: { username: a.userName, password: a.password } })).status).toBe(200);
      expect((await t2.req('POST', '/v1/auth/login', { json: { username: b.userName, password: b.password } })).status).toBe(200);
      expect(await t2.app.services.users.lookup.findByUserName(b.userName)).toMatchObject({ groups: ['g1'] });
      const again = await t2.app.services.portability.importText(operatorContext(t2.defaultOrgId), text, {});
      expect(again).toMatchObject({ created: 0, updated: 0, unchanged: 2 });
    } finally {
      await t2.close();
    }
  });
});
