import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Scope } from '../../src/auth/scopes.js';
import { buildTestApp, type TestApp, type TestResponse, unique } from '../helpers/test-app.js';

/** SCIM 2.0 request sequences as Microsoft Entra ID's provisioning service sends them. @see issue 6 */

const CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

let t: TestApp;
const deactivated: string[] = [];

beforeAll(async () => {
  t = await buildTestApp();
  t.app.services.events.on('user.access_revoked', ({ userId, reason }) => {
    if (reason === 'user_deactivated') deactivated.push(userId);
  });
});
afterAll(async () => {
  await t?.close();
});

/** A fresh organization with an administrator's provisioning key (what an admin pastes into Entra as the secret token). */
async function tenant(scopes: Scope[] = ['users:write']) {
  const org = await t.createOrg();
  const admin = await t.createUser({ organizationId: org, roles: ['admin'] });
  const key = await t.createApiKey(admin.id, scopes);
  const scim = (method: string, path: string, json?: unknown): Promise<TestResponse> =>
    t.req(method, `/scim/v2${path}`, {
      headers: {
        authorization: `Bearer ${key.secret}`,
        ...(json !== undefined ? { 'content-type': 'application/scim+json' } : {}),
      },
      ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
    });
  return { org, admin, key, scim };
}

/** Entra's create request (Microsoft's "Create User" example). */
function entraUser(suffix = randomUUID()) {
  return {
    schemas: [CORE, ENTERPRISE],
    externalId: randomUUID(),
    userName: `Test_User_${suffix}`,
    active: true,
    emails: [{ primary: true, type: 'work', value: `Test_User_${suffix}@testuser.com` }],
    meta: { resourceType: 'User' },
    name: { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' },
    roles: [],
  };
}

const q = (filter: string) => `filter=${encodeURIComponent(filter).replace(/%20/g, '+')}`;
const expectScim = (res: TestResponse) => expect(res.headers.get('content-type')).toMatch(/^application\/scim\+json/);
const iso = expect.stringMatching(/^\d{4}-\d\d-\d\dT/);

function expectScimError(res: TestResponse, status: number, scimType?: string) {
  expect(res.status).toBe(status);
  expectScim(res);
  expect(res.body).toEqual({ schemas: [ERROR], status: String(status), ...(scimType ? { scimType } : {}), detail: expect.any(String) });
}

describe('SCIM discovery', () => {
  it('serves ServiceProviderConfig, ResourceTypes and Schemas', async () => {
    const { scim } = await tenant();
    const spc = await scim('GET', '/ServiceProviderConfig');
    expect(spc.status).toBe(200);
    expectScim(spc);
    expect(spc.body).toMatchObject({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
      patch: { supported: true },
      bulk: { supported: false },
      filter: { supported: true, maxResults: 1000 },
      changePassword: { supported: false },
      authenticationSchemes: [expect.objectContaining({ type: 'oauthbearertoken' })],
    });
    const types = await scim('GET', '/ResourceTypes');
    expectScim(types);
    expect(types.body).toMatchObject({ schemas: [LIST], totalResults: 2 });
    expect(types.body.Resources.map((r: any) => r.endpoint)).toEqual(['/Users', '/Groups']);
    const schemas = await scim('GET', '/Schemas');
    expect(schemas.body.Resources.map((r: any) => r.id)).toEqual([CORE, ENTERPRISE, GROUP]);
    const user = await scim('GET', `/Schemas/${CORE}`);
    expect(user.status).toBe(200);
    expect(user.body.attributes.map((a: any) => a.name)).toContain('userName');
    expectScimError(await scim('GET', '/Schemas/urn:nope'), 404);
  });
});

describe('SCIM Users, as Entra provisions them', () => {
  it('creates after a filter finds nothing, then finds the user by every filter Entra uses', async () => {
    const { scim } = await tenant();
    const body = entraUser();

    const none = await scim('GET', `/Users?${q(`userName eq "${body.userName}"`)}`);
    expect(none.status).toBe(200);
    expectScim(none);
    expect(none.body).toEqual({ schemas: [LIST], totalResults: 0, startIndex: 1, itemsPerPage: 0, Resources: [] });

    const created = await scim('POST', '/Users', body);
    expect(created.status).toBe(201);
    expectScim(created);
    const id = created.body.id;
    expect(created.headers.get('location')).toBe(`${t.config.publicUrl}/scim/v2/Users/${id}`);
    expect(created.body).toEqual({
      schemas: [CORE, ENTERPRISE],
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      externalId: body.externalId,
      userName: body.userName,
      emails: body.emails,
      name: body.name,
      roles: [],
      active: true,
      meta: { resourceType: 'User', created: iso, lastModified: iso, location: `${t.config.publicUrl}/scim/v2/Users/${id}` },
    });

    // Mapped onto the Portcullis user.
    const user = (await t.app.services.users.lookup.findById(id))!;
    expect(user).toMatchObject({
      userName: body.userName,
      email: body.emails[0]!.value.toLowerCase(),
      firstName: 'givenName',
      lastName: 'familyName',
      externalId: body.externalId,
      state: 'ACTIVE',
      profileSource: 'scim',
      passwordHash: null,
    });

    const filters = [
      `userName eq "${body.userName}"`,
      `userName eq "${body.userName.toUpperCase()}"`,
      `externalId eq "${body.externalId}"`,
      `emails[type eq "work"].value eq "${body.emails[0]!.value}"`,
      `emails.value eq "${body.emails[0]!.value.toLowerCase()}"`,
      `userName eq "${body.userName}" and externalId eq "${body.externalId}"`,
      `id eq "${id}"`,
    ];
    for (const filter of filters) {
      const found = await scim('GET', `/Users?${q(filter)}`);
      expect(found.status, filter).toBe(200);
      expect(found.body, filter).toEqual({ schemas: [LIST], totalResults: 1, startIndex: 1, itemsPerPage: 1, Resources: [created.body] });
    }
    for (const filter of [
      'userName eq "nobody"',
      `externalId eq "${body.externalId.toUpperCase()}"`,
      `userName eq "${body.userName}" and externalId eq "other"`,
      'emails[type eq "home"].value eq "x@y.z"',
      'displayName eq "Nobody At All"',
    ]) {
      const found = await scim('GET', `/Users?${q(filter)}`);
      expect(found.status, filter).toBe(200);
      expect(found.body.totalResults, filter).toBe(0);
      expect(found.body.Resources).toEqual([]);
    }

    const got = await scim('GET', `/Users/${id}`);
    expect(got.status).toBe(200);
    expectScim(got);
    expect(got.body).toEqual(created.body);

    const dup = await scim('POST', '/Users', { ...entraUser(), userName: body.userName });
    expectScimError(dup, 409, 'uniqueness');

    const bad = await scim('GET', `/Users?${q('userName eq')}`);
    expectScimError(bad, 400, 'invalidFilter');
  });

  it('patches attributes: filtered paths, dotted no-path replace, enterprise extension; values stored as sent', async () => {
    const { scim } = await tenant();
    const created = (await scim('POST', '/Users', entraUser())).body;
    const id = created.id;

    const multi = await scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH],
      Operations: [
        { op: 'Replace', path: 'emails[type eq "work"].value', value: 'UpdatedEmail@Microsoft.com' },
        { op: 'Replace', path: 'name.familyName', value: 'updatedFamilyName' },
        { op: 'Add', path: 'phoneNumbers[type eq "work"].value', value: '+1 555 0100' },
      ],
    });
    expect(multi.status).toBe(200);
    expectScim(multi);
    expect(multi.body.emails).toEqual([{ primary: true, type: 'work', value: 'UpdatedEmail@Microsoft.com' }]);
    expect(multi.body.name).toEqual({ formatted: 'givenName familyName', familyName: 'updatedFamilyName', givenName: 'givenName' });
    expect(multi.body.phoneNumbers).toEqual([{ type: 'work', value: '+1 555 0100' }]);

    const noPath = await scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH],
      Operations: [
        {
          op: 'replace',
          value: {
            'name.givenName': 'Ada',
            displayName: 'Ada Lovelace',
            title: 'Countess',
            [`${ENTERPRISE}:department`]: 'Analytical Engines',
            [ENTERPRISE]: { employeeNumber: '1815' },
          },
        },
        { op: 'Add', path: `${ENTERPRISE}:manager`, value: 'babbage-id' },
      ],
    });
    expect(noPath.status).toBe(200);
    expect(noPath.body).toMatchObject({
      name: { givenName: 'Ada', familyName: 'updatedFamilyName' },
      displayName: 'Ada Lovelace',
      title: 'Countess',
      [ENTERPRISE]: { department: 'Analytical Engines', employeeNumber: '1815', manager: 'babbage-id' },
    });
    const user = (await t.app.services.users.lookup.findById(id))!;
    expect(user).toMatchObject({
      email: 'updatedemail@microsoft.com',
      firstName: 'Ada',
      lastName: 'updatedFamilyName',
      title: 'Countess',
      department: 'Analytical Engines',
      phone: '+1 555 0100',
    });
    expect((await scim('GET', `/Users?${q('displayName eq "Ada Lovelace"')}`)).body.totalResults).toBe(1);

    const removed = await scim('PATCH', `/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'Remove', path: 'title' }] });
    expect(removed.status).toBe(200);
    expect(removed.body.title).toBeUndefined();
    expect((await t.app.services.users.lookup.findById(id))!.title).toBeNull();

    expectScimError(await scim('PATCH', `/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'Remove' }] }), 400, 'noTarget');
    expectScimError(
      await scim('PATCH', `/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'Move', path: 'title' }] }),
      400,
      'invalidSyntax',
    );
    expectScimError(
      await scim('PATCH', `/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'id', value: 'x' }] }),
      400,
      'mutability',
    );
    expectScimError(
      await scim('PATCH', `/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: 'maybe' }] }),
      400,
      'invalidValue',
    );
    expectScimError(await scim('PATCH', `/Users/${id}`, { schemas: [PATCH], Operations: [] }), 400, 'invalidValue');
  });

  it('deactivates with active "False" (sessions and keys revoked) and reactivates with "True" or a boolean', async () => {
    const { scim } = await tenant();
    const created = (await scim('POST', '/Users', entraUser())).body;
    const id = created.id;
    const own = await t.createApiKey(id, ['apikeys:write']);
    expect((await t.req('GET', '/v1/api-keys', { apiKey: own.secret })).status).toBe(200);

    const off = await scim('PATCH', `/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] });
    expect(off.status).toBe(200);
    expectScim(off);
    expect(off.body.active).toBe(false);
    expect((await t.app.services.users.lookup.findById(id))!.state).toBe('SUSPENDED');
    expect(deactivated).toContain(id);
    expect((await t.req('GET', '/v1/api-keys', { apiKey: own.secret })).status).toBe(401);
    const [event] = await t.app.services.audit.list({
      organizationId: (await t.app.services.users.lookup.findById(id))!.organizationId,
      action: 'user.updated',
      limit: 1,
    });
    expect(event).toMatchObject({ actorType: 'api_key', targetId: id, data: { changedFields: ['state'] } });
    expect((await scim('GET', `/Users?${q(`userName eq "${created.userName}"`)}`)).body.Resources[0].active).toBe(false);

    const on = await scim('PATCH', `/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'Replace', path: 'active', value: 'True' }] });
    expect(on.body.active).toBe(true);
    expect((await t.app.services.users.lookup.findById(id))!.state).toBe('ACTIVE');

    const before = deactivated.filter((d) => d === id).length;
    const bool = await scim('PATCH', `/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'replace', value: { active: false } }] });
    expect(bool.body.active).toBe(false);
    expect(deactivated.filter((d) => d === id).length).toBe(before + 1);
    // Already inactive: deactivating again runs nothing.
    await scim('PATCH', `/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: false }] });
    expect(deactivated.filter((d) => d === id).length).toBe(before + 1);
  });

  it('replaces with PUT, never provisions passwords, and deletes with 204', async () => {
    const { scim } = await tenant();
    const body = { ...entraUser(), password: 'Provisioned-P@ssw0rd!' };
    const created = await scim('POST', '/Users', body);
    expect(created.status).toBe(201);
    expect(created.text).not.toContain('Provisioned-P@ssw0rd!');
    const id = created.body.id;
    expect((await t.app.services.users.lookup.findById(id))!.passwordHash).toBeNull();
    const pw = await scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'password', value: 'Another-P@ss1' }],
    });
    expect(pw.status).toBe(200);
    expect((await t.app.services.users.lookup.findById(id))!.passwordHash).toBeNull();

    const replacement = {
      schemas: [CORE],
      id,
      userName: body.userName,
      externalId: body.externalId,
      active: true,
      displayName: 'Replaced',
      emails: [{ value: 'replaced@example.test', type: 'work', primary: true }],
    };
    const put = await scim('PUT', `/Users/${id}`, replacement);
    expect(put.status).toBe(200);
    expectScim(put);
    expect(put.body).toEqual({
      ...replacement,
      meta: { resourceType: 'User', created: created.body.meta.created, lastModified: iso, location: created.body.meta.location },
    });
    const user = (await t.app.services.users.lookup.findById(id))!;
    expect(user).toMatchObject({ email: 'replaced@example.test', firstName: null, lastName: null });
    expectScimError(await scim('PUT', `/Users/${id}`, { ...replacement, id: randomUUID() }), 400, 'mutability');
    expectScimError(await scim('PUT', `/Users/${id}`, { schemas: [CORE] }), 400, 'invalidValue');

    const del = await scim('DELETE', `/Users/${id}`);
    expect(del.status).toBe(204);
    expect(del.text).toBe('');
    expect(del.headers.get('content-type')).toBeNull();
    expect(deactivated).toContain(id);
    expect((await t.app.services.users.lookup.findById(id))!.state).toBe('DELETED');
    expectScimError(await scim('GET', `/Users/${id}`), 404);
    expectScimError(await scim('DELETE', `/Users/${id}`), 404);
    expect((await scim('GET', `/Users?${q(`userName eq "${body.userName}"`)}`)).body.totalResults).toBe(0);
  });

  it('pages with startIndex and count', async () => {
    const { scim } = await tenant();
    for (let i = 0; i < 4; i++) expect((await scim('POST', '/Users', entraUser())).status).toBe(201);
    const all = await scim('GET', '/Users');
    expect(all.body.totalResults).toBe(5); // the administrator and four provisioned users
    const page = await scim('GET', '/Users?startIndex=2&count=2');
    expect(page.body).toMatchObject({ totalResults: 5, startIndex: 2, itemsPerPage: 2 });
    expect(page.body.Resources.map((r: any) => r.id)).toEqual(all.body.Resources.slice(1, 3).map((r: any) => r.id));
    const zero = await scim('GET', '/Users?count=0');
    expect(zero.body).toMatchObject({ totalResults: 5, itemsPerPage: 0, Resources: [] });
    const past = await scim('GET', '/Users?startIndex=99');
    expect(past.body).toMatchObject({ totalResults: 5, startIndex: 99, itemsPerPage: 0, Resources: [] });
    const projected = await scim('GET', '/Users?attributes=userName&count=1');
    expect(Object.keys(projected.body.Resources[0]).sort()).toEqual(['id', 'meta', 'schemas', 'userName']);
    const last = all.body.Resources[4].id;
    const sub = await scim('GET', `/Users/${last}?attributes=name.givenName,${ENTERPRISE}:department`);
    expect(Object.keys(sub.body).sort()).toEqual(['id', 'meta', 'name', 'schemas']);
    const without = await scim('GET', `/Users/${last}?excludedAttributes=emails,name`);
    expect(without.body).not.toHaveProperty('emails');
    expect(without.body).not.toHaveProperty('name');
    expect(without.body).toMatchObject({ id: last, active: true });
  });

  it('answers SCIM errors for 401, 403, other organizations and unknown routes', async () => {
    const a = await tenant();
    const b = await tenant();
    const created = (await a.scim('POST', '/Users', entraUser())).body;

    const anonymous = await t.req('GET', '/scim/v2/Users');
    expectScimError(anonymous, 401);
    const wrong = await t.req('GET', '/scim/v2/Users', { headers: { authorization: 'Bearer pcs_not-a-key' } });
    expectScimError(wrong, 401);
    const readOnly = await tenant(['users:read']);
    expectScimError(await readOnly.scim('GET', '/Users'), 403);

    expectScimError(await b.scim('GET', `/Users/${created.id}`), 404);
    expectScimError(
      await b.scim('PATCH', `/Users/${created.id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: false }] }),
      404,
    );
    expectScimError(await b.scim('DELETE', `/Users/${created.id}`), 404);
    expect((await b.scim('GET', `/Users?${q(`userName eq "${created.userName}"`)}`)).body.totalResults).toBe(0);
    expect((await t.app.services.users.lookup.findById(created.id))!.state).toBe('ACTIVE');

    expectScimError(await a.scim('GET', '/Nope'), 404);
    const malformed = await t.req('POST', '/scim/v2/Users', {
      body: '{"userName":',
      headers: { authorization: `Bearer ${a.key.secret}`, 'content-type': 'application/scim+json' },
    });
    expectScimError(malformed, 400, 'invalidSyntax');
    expectScimError(await a.scim('POST', '/Users', { schemas: [CORE] }), 400, 'invalidValue');
  });
});

describe('SCIM Groups, as Entra provisions them', () => {
  it('creates a group, adds and removes members, renames, honours excludedAttributes, and deletes', async () => {
    const { scim, admin } = await tenant();
    const u1 = (await scim('POST', '/Users', entraUser())).body;
    const u2 = (await scim('POST', '/Users', entraUser())).body;
    // A group name from elsewhere (not SCIM) survives SCIM's changes.
    await t.req('PATCH', `/v1/users/${u1.id}`, { apiKey: t.adminKey, json: { groups: ['local-only'] } });

    const displayName = `Group${randomUUID().replace(/-/g, '')}`;
    const externalId = randomUUID();
    const notYet = await scim('GET', `/Groups?excludedAttributes=members&${q(`displayName eq "${displayName}"`)}`);
    expect(notYet.body).toEqual({ schemas: [LIST], totalResults: 0, startIndex: 1, itemsPerPage: 0, Resources: [] });

    const created = await scim('POST', '/Groups', { externalId, displayName, meta: { resourceType: 'Group' }, schemas: [GROUP] });
    expect(created.status).toBe(201);
    expectScim(created);
    const id = created.body.id;
    const location = `${t.config.publicUrl}/scim/v2/Groups/${id}`;
    expect(created.headers.get('location')).toBe(location);
    expect(created.body).toEqual({
      schemas: [GROUP],
      id,
      externalId,
      displayName,
      members: [],
      meta: { resourceType: 'Group', created: iso, lastModified: iso, location },
    });
    expectScimError(await scim('POST', '/Groups', { displayName: displayName.toLowerCase(), schemas: [GROUP] }), 409, 'uniqueness');

    const found = await scim('GET', `/Groups?excludedAttributes=members&${q(`displayName eq "${displayName}"`)}`);
    expect(found.body).toMatchObject({ schemas: [LIST], totalResults: 1, itemsPerPage: 1 });
    expect(found.body.Resources[0]).toEqual({ schemas: [GROUP], id, externalId, displayName, meta: created.body.meta });

    const add = await scim('PATCH', `/Groups/${id}`, {
      schemas: [PATCH],
      Operations: [
        {
          op: 'Add',
          path: 'members',
          value: [
            { $ref: null, value: u1.id },
            { $ref: null, value: u2.id },
          ],
        },
      ],
    });
    expect(add.status).toBe(204);
    expect(add.text).toBe('');
    const withMembers = await scim('GET', `/Groups/${id}`);
    expectScim(withMembers);
    // Members added together are listed by id.
    const expected = [u1, u2]
      .map((u) => ({ value: u.id, display: u.userName, $ref: `${t.config.publicUrl}/scim/v2/Users/${u.id}` }))
      .sort((a, b) => (a.value < b.value ? -1 : 1));
    expect(withMembers.body.members).toEqual(expected);
    const noMembers = await scim('GET', `/Groups/${id}?excludedAttributes=members`);
    expect(noMembers.body).not.toHaveProperty('members');
    expect(noMembers.body).toMatchObject({ id, displayName, externalId });

    const groupsOf = async (userId: string) => (await t.app.services.users.lookup.findById(userId))!.groups;
    expect(await groupsOf(u1.id)).toEqual(['local-only', displayName]);
    expect(await groupsOf(u2.id)).toEqual([displayName]);
    expect((await scim('GET', `/Users/${u1.id}`)).body.groups).toEqual([{ value: id, display: displayName, $ref: location }]);
    expect((await t.req('GET', `/v1/users/${u1.id}`, { apiKey: t.adminKey })).body.groups).toEqual(['local-only', displayName]);
    expect((await scim('GET', `/Groups?${q(`members.value eq "${u2.id}"`)}`)).body.totalResults).toBe(1);

    const remove = await scim('PATCH', `/Groups/${id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'Remove', path: `members[value eq "${u1.id}"]` }],
    });
    expect(remove.status).toBe(204);
    expect(await groupsOf(u1.id)).toEqual(['local-only']);
    expect((await scim('GET', `/Groups/${id}`)).body.members.map((m: any) => m.value)).toEqual([u2.id]);
    // Removing a member that is no longer there changes nothing.
    expect(
      (await scim('PATCH', `/Groups/${id}`, { schemas: [PATCH], Operations: [{ op: 'Remove', path: `members[value eq "${u1.id}"]` }] }))
        .status,
    ).toBe(204);

    const renamed = `${displayName}-renamed`;
    const rename = await scim('PATCH', `/Groups/${id}`, {
      schemas: [PATCH],
      Operations: [
        { op: 'Replace', path: 'displayName', value: renamed },
        { op: 'Add', path: 'members', value: [{ value: u1.id }] },
        { op: 'Remove', path: 'members', value: [{ value: u2.id }] },
      ],
    });
    expect(rename.status).toBe(204);
    expect(await groupsOf(u1.id)).toEqual(['local-only', renamed]);
    expect(await groupsOf(u2.id)).toEqual([]);
    const after = await scim('GET', `/Groups/${id}`);
    expect(after.body).toMatchObject({ displayName: renamed, members: [{ value: u1.id, display: u1.userName }] });

    const noPath = await scim('PATCH', `/Groups/${id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', value: { externalId: 'ext-2' } }],
    });
    expect(noPath.status).toBe(204);
    expect((await scim('GET', `/Groups?${q('externalId eq "ext-2"')}`)).body.Resources[0].id).toBe(id);

    const foreign = await tenant();
    expectScimError(
      await scim('PATCH', `/Groups/${id}`, {
        schemas: [PATCH],
        Operations: [{ op: 'Add', path: 'members', value: [{ value: foreign.admin.id }] }],
      }),
      400,
      'invalidValue',
    );
    expectScimError(
      await scim('PATCH', `/Groups/${id}`, {
        schemas: [PATCH],
        Operations: [{ op: 'Add', path: `members[value eq "${admin.id}"]`, value: 'x' }],
      }),
      400,
      'invalidPath',
    );
    expectScimError(await foreign.scim('GET', `/Groups/${id}`), 404);

    const put = await scim('PUT', `/Groups/${id}`, { schemas: [GROUP], displayName: renamed, members: [{ value: u2.id }] });
    expect(put.status).toBe(200);
    expectScim(put);
    expect(put.body.members.map((m: any) => m.value)).toEqual([u2.id]);
    expect(await groupsOf(u1.id)).toEqual(['local-only']);
    expect(await groupsOf(u2.id)).toEqual([renamed]);

    const del = await scim('DELETE', `/Groups/${id}`);
    expect(del.status).toBe(204);
    expect(await groupsOf(u2.id)).toEqual([]);
    expectScimError(await scim('GET', `/Groups/${id}`), 404);
    expect((await scim('GET', `/Groups?${q(`displayName eq "${renamed}"`)}`)).body.totalResults).toBe(0);
  });

  it('drops a deleted user from its groups', async () => {
    const { scim } = await tenant();
    const u = (await scim('POST', '/Users', entraUser())).body;
    const g = (await scim('POST', '/Groups', { schemas: [GROUP], displayName: unique('g'), members: [{ value: u.id }] })).body;
    expect(g.members.map((m: any) => m.value)).toEqual([u.id]);
    expect((await scim('DELETE', `/Users/${u.id}`)).status).toBe(204);
    expect((await scim('GET', `/Groups/${g.id}`)).body.members).toEqual([]);
  });

  it('is documented in /openapi.json', async () => {
    const doc = (await t.req('GET', '/openapi.json')).body;
    for (const path of [
      '/scim/v2/Users',
      '/scim/v2/Users/{id}',
      '/scim/v2/Groups',
      '/scim/v2/Groups/{id}',
      '/scim/v2/ServiceProviderConfig',
    ]) {
      expect(doc.paths, path).toHaveProperty([path]);
    }
    expect(Object.keys(doc.paths['/scim/v2/Users'].post.responses)).toEqual(expect.arrayContaining(['201', '400', '401', '403', '409']));
  });
});

describe('SCIM lists, paged in SQL (issue 15)', () => {
  it('pages users over more than one page by startIndex and count, with totalResults counted in SQL', async () => {
    const { org, scim } = await tenant();
    for (let i = 0; i < 150; i++) await t.app.services.users.create(t.context(org), { userName: unique('page') });
    const byOrder = (a: any, b: any) =>
      a.meta.created === b.meta.created ? (a.id < b.id ? -1 : 1) : a.meta.created < b.meta.created ? -1 : 1;

    const first = await scim('GET', '/Users');
    expect(first.body).toMatchObject({ schemas: [LIST], totalResults: 151, startIndex: 1, itemsPerPage: 100 });
    const second = await scim('GET', '/Users?startIndex=101&count=100');
    expect(second.body).toMatchObject({ totalResults: 151, startIndex: 101, itemsPerPage: 51 });
    const all = [...first.body.Resources, ...second.body.Resources];
    expect(new Set(all.map((r: any) => r.id)).size).toBe(151);
    expect(all).toEqual([...all].sort(byOrder));
    const middle = await scim('GET', '/Users?startIndex=95&count=10');
    expect(middle.body.Resources.map((r: any) => r.id)).toEqual(all.slice(94, 104).map((r: any) => r.id));

    // A deleted user is neither counted nor listed.
    const gone = all[7].id;
    expect((await scim('DELETE', `/Users/${gone}`)).status).toBe(204);
    const after = await scim('GET', '/Users?startIndex=1&count=1000');
    expect(after.body).toMatchObject({ totalResults: 150, itemsPerPage: 150 });
    expect(after.body.Resources.map((r: any) => r.id)).toEqual(all.map((r: any) => r.id).filter((id: string) => id !== gone));

    // A filter no index serves is evaluated over every user, and paged the same way.
    const scanned = all.filter((r: any) => r.id !== gone && r.userName.startsWith('page'));
    expect(scanned).toHaveLength(149);
    const tail = await scim('GET', `/Users?${q('userName sw "PAGE"')}&startIndex=140&count=20`);
    expect(tail.body).toMatchObject({ totalResults: 149, startIndex: 140, itemsPerPage: 10 });
    expect(tail.body.Resources.map((r: any) => r.id)).toEqual(scanned.slice(139).map((r: any) => r.id));
  });

  it('pages groups by startIndex and count', async () => {
    const { scim } = await tenant();
    const names = [unique('ga'), unique('gb'), unique('gc')];
    for (const displayName of names) expect((await scim('POST', '/Groups', { schemas: [GROUP], displayName })).status).toBe(201);
    const page = await scim('GET', '/Groups?count=2&excludedAttributes=members');
    expect(page.body).toMatchObject({ totalResults: 3, startIndex: 1, itemsPerPage: 2 });
    expect(page.body.Resources.map((g: any) => g.displayName)).toEqual(names.slice(0, 2));
    expect(page.body.Resources[0]).not.toHaveProperty('members');
    const rest = await scim('GET', '/Groups?startIndex=3&count=2');
    expect(rest.body).toMatchObject({ totalResults: 3, startIndex: 3, itemsPerPage: 1 });
    expect(rest.body.Resources[0]).toMatchObject({ displayName: names[2], members: [] });
    const scanned = await scim('GET', `/Groups?${q(`displayName co "${names[1]!.slice(2)}"`)}`);
    expect(scanned.body.Resources.map((g: any) => g.displayName)).toEqual([names[1]]);
  });
});

describe('SCIM writes, one transaction per request (issue 15)', () => {
  /** Makes the database refuse (a trigger, no code of ours replaced) an insert or update of `table` whose `column` contains `marker`. */
  async function failWrites(table: string, column: string, event: 'INSERT' | 'UPDATE', marker: string): Promise<void> {
    const { storage } = t.app.services;
    const name = `fail_${marker.replace(/\W/g, '_')}`;
    const like = `'%${marker}%'`;
    if (storage.dialect === 'sqlite') {
      await sql
        .raw(`CREATE TRIGGER ${name} BEFORE ${event} ON ${table} WHEN NEW.${column} LIKE ${like} BEGIN SELECT RAISE(ABORT, 'forced'); END`)
        .execute(storage.db);
      return;
    }
    await sql
      .raw(
        `CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.${column} LIKE ${like} THEN RAISE EXCEPTION 'forced'; END IF; RETURN NEW; END $$`,
      )
      .execute(storage.db);
    await sql.raw(`CREATE TRIGGER ${name} BEFORE ${event} ON ${table} FOR EACH ROW EXECUTE FUNCTION ${name}()`).execute(storage.db);
  }

  const auditedIn = async (organizationId: string, action: 'user.created' | 'directory.group_created') =>
    t.app.services.audit.list({ organizationId, action, limit: 100 });

  it('leaves no user behind when the stored resource of a created user fails to write', async () => {
    const { org, scim } = await tenant();
    const marker = unique('fail');
    await failWrites('directory_scim_users', 'resource', 'INSERT', marker);
    const body = { ...entraUser(), displayName: marker };

    const failed = await scim('POST', '/Users', body);
    expectScimError(failed, 500);
    expect(await t.app.services.users.lookup.findByUserName(body.userName)).toBeUndefined();
    expect((await auditedIn(org, 'user.created')).filter((e) => e.data.userName === body.userName)).toEqual([]);
    expect((await scim('GET', `/Users?${q(`userName eq "${body.userName}"`)}`)).body.totalResults).toBe(0);

    // Nothing holds the name: the same user without the failing write is created.
    const created = await scim('POST', '/Users', { ...body, displayName: 'Created' });
    expect(created.status).toBe(201);
    expect((await auditedIn(org, 'user.created')).filter((e) => e.data.userName === body.userName)).toHaveLength(1);
  });

  it('leaves no group, membership or audit record behind when a member’s group names fail to write', async () => {
    const { org, scim } = await tenant();
    const member = (await scim('POST', '/Users', entraUser())).body;
    const displayName = unique('fail');
    await failWrites('users', 'groups', 'UPDATE', displayName);

    const failed = await scim('POST', '/Groups', { schemas: [GROUP], displayName, members: [{ value: member.id }] });
    expectScimError(failed, 500);
    expect((await scim('GET', `/Groups?${q(`displayName eq "${displayName}"`)}`)).body.totalResults).toBe(0);
    expect((await scim('GET', `/Users/${member.id}`)).body).not.toHaveProperty('groups');
    expect(await auditedIn(org, 'directory.group_created')).toEqual([]);

    expect((await scim('POST', '/Groups', { schemas: [GROUP], displayName })).status).toBe(201);
  });

  it('keeps the stored resource when the user update of a PATCH is refused', async () => {
    const { scim } = await tenant();
    const a = (await scim('POST', '/Users', entraUser())).body;
    const b = (await scim('POST', '/Users', entraUser())).body;
    const refused = await scim('PATCH', `/Users/${b.id}`, {
      schemas: [PATCH],
      Operations: [
        { op: 'replace', path: 'displayName', value: 'Not Kept' },
        { op: 'replace', path: 'emails[type eq "work"].value', value: a.emails[0].value },
      ],
    });
    expectScimError(refused, 409, 'uniqueness');
    expect((await scim('GET', `/Users/${b.id}`)).body).toEqual(b);
  });
});
