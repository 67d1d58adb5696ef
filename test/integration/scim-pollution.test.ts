import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pollutionWatch } from '../helpers/pollution.js';
import { buildTestApp, type TestApp, type TestResponse } from '../helpers/test-app.js';

/**
 * SCIM input never reaches an object path with `__proto__`, `constructor` or `prototype` in it:
 * every form below polluted `Object.prototype` inside scim-patch, or was accepted, before the fix.
 * Each answers 400 with a SCIM error, changes nothing, and leaves the built-ins as they were.
 * @see issue 14 (finding 2)
 */

const CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

let t: TestApp;
let scim: (method: string, path: string, body?: string) => Promise<TestResponse>;
let userId: string;
let groupId: string;
const watch = pollutionWatch();

beforeAll(async () => {
  t = await buildTestApp();
  const org = await t.createOrg();
  const admin = await t.createUser({ organizationId: org, roles: ['admin'] });
  const key = await t.createApiKey(admin.id, ['users:write']);
  scim = (method, path, body) =>
    t.req(method, `/scim/v2${path}`, {
      headers: { authorization: `Bearer ${key.secret}`, ...(body !== undefined ? { 'content-type': 'application/scim+json' } : {}) },
      ...(body !== undefined ? { body } : {}),
    });
  const suffix = randomUUID();
  const created = await scim(
    'POST',
    '/Users',
    JSON.stringify({
      schemas: [CORE, ENTERPRISE],
      userName: `victim_${suffix}`,
      externalId: suffix,
      active: true,
      name: { givenName: 'Vic', familyName: 'Tim' },
      emails: [{ primary: true, type: 'work', value: `victim_${suffix}@example.test` }],
      [ENTERPRISE]: { department: 'Ops' },
    }),
  );
  expect(created.status).toBe(201);
  userId = created.body.id;
  const group = await scim('POST', '/Groups', JSON.stringify({ displayName: `group_${suffix}`, members: [{ value: userId }] }));
  expect(group.status).toBe(201);
  groupId = group.body.id;
});
afterAll(async () => {
  await t?.close();
});
afterEach(() => {
  // Also restores the built-ins, so one polluting request cannot break the cases after it.
  expect(watch.check(), 'built-in objects were polluted').toEqual([]);
  expect(({} as Record<string, unknown>).bootstrap).toBeUndefined();
});

function expectScimError(res: TestResponse, scimType: string) {
  expect({ status: res.status, body: res.body }).toEqual({
    status: 400,
    body: { schemas: [ERROR], status: '400', scimType, detail: expect.any(String) },
  });
  expect(res.headers.get('content-type')).toMatch(/^application\/scim\+json/);
}

/** The user as SCIM and the users table show it. */
async function userState() {
  const scimView = await scim('GET', `/Users/${userId}`);
  expect(scimView.status).toBe(200);
  return { scim: scimView.body, row: await t.app.services.users.lookup.findById(userId) };
}

async function groupState() {
  const view = await scim('GET', `/Groups/${groupId}`);
  expect(view.status).toBe(200);
  return view.body;
}

const patchBody = (...ops: unknown[]) => JSON.stringify({ schemas: [PATCH], Operations: ops });

/** Operations as JSON text: a `__proto__` key written in a JS object literal would set its prototype instead. */
const userPatches: Array<[string, string, string]> = [
  ['__proto__.x path', patchBody({ op: 'add', path: '__proto__.bootstrap', value: true }), 'invalidPath'],
  ['constructor.prototype.x path', patchBody({ op: 'add', path: 'constructor.prototype.bootstrap', value: true }), 'invalidPath'],
  ['name.__proto__.x path', patchBody({ op: 'add', path: 'name.__proto__.bootstrap', value: true }), 'invalidPath'],
  [
    'name.constructor.prototype.x path',
    patchBody({ op: 'replace', path: 'name.constructor.prototype.bootstrap', value: true }),
    'invalidPath',
  ],
  [
    'a segment after a value filter',
    patchBody({ op: 'add', path: 'emails[type eq "work"].__proto__.bootstrap', value: true }),
    'invalidPath',
  ],
  ['an attribute inside a value filter', patchBody({ op: 'add', path: 'emails[__proto__ eq "x"].value', value: 'a@b.c' }), 'invalidPath'],
  [
    'constructor inside a value filter',
    patchBody({ op: 'replace', path: 'emails[constructor.prototype pr].value', value: 'a@b.c' }),
    'invalidPath',
  ],
  ['a bare __proto__ path with an object value', patchBody({ op: 'add', path: '__proto__', value: { bootstrap: true } }), 'invalidPath'],
  ['__proto__ as a schema prefix', patchBody({ op: 'add', path: '__proto__:bootstrap', value: true }), 'invalidPath'],
  [
    '__proto__ after an extension URN',
    patchBody({ op: 'add', path: `${ENTERPRISE}:__proto__`, value: { bootstrap: true } }),
    'invalidPath',
  ],
  [
    '__proto__ inside an extension URN path',
    patchBody({ op: 'add', path: `${ENTERPRISE}:manager.__proto__.bootstrap`, value: true }),
    'invalidPath',
  ],
  ['another case', patchBody({ op: 'add', path: '__PROTO__.bootstrap', value: true }), 'invalidPath'],
  ['another case of constructor', patchBody({ op: 'add', path: 'Constructor.Prototype.bootstrap', value: true }), 'invalidPath'],
  ['remove through constructor.prototype', patchBody({ op: 'remove', path: 'constructor.prototype.toString' }), 'invalidPath'],
  ['a no-path dotted key', patchBody({ op: 'add', value: { '__proto__.bootstrap': true } }), 'invalidPath'],
  ['a no-path name.__proto__ key', patchBody({ op: 'replace', value: { 'name.__proto__': { bootstrap: true } } }), 'invalidPath'],
  ['a no-path constructor.prototype key', patchBody({ op: 'add', value: { 'constructor.prototype.bootstrap': true } }), 'invalidPath'],
  [
    'a no-path key under the extension',
    patchBody({ op: 'replace', value: { [ENTERPRISE]: { '__proto__.bootstrap': true } } }),
    'invalidPath',
  ],
  [
    'a no-path key under the core schema',
    patchBody({ op: 'replace', value: { [CORE]: { 'name.__proto__.bootstrap': true } } }),
    'invalidPath',
  ],
  ['a dotted key in a path value', patchBody({ op: 'add', path: 'name', value: { '__proto__.bootstrap': true } }), 'invalidPath'],
  [
    'a dotted key deep in a value',
    patchBody({ op: 'add', path: 'addresses', value: [{ type: 'work', extra: { 'a.prototype': 1 } }] }),
    'invalidPath',
  ],
  ['a constructor key in a value', patchBody({ op: 'add', path: 'name', value: { constructor: { bootstrap: true } } }), 'invalidSyntax'],
  ['a prototype key in a no-path value', patchBody({ op: 'add', value: { name: { Prototype: { bootstrap: true } } } }), 'invalidSyntax'],
  [
    'a bad operation after a good one',
    patchBody({ op: 'replace', path: 'title', value: 'Changed' }, { op: 'add', path: '__proto__.bootstrap', value: true }),
    'invalidPath',
  ],
];

describe('SCIM PATCH /Users refuses prototype paths and keys', () => {
  it.each(userPatches)('%s', async (_name, body, scimType) => {
    const before = await userState();
    expectScimError(await scim('PATCH', `/Users/${userId}`, body), scimType);
    expect(watch.check(), 'built-in objects were polluted').toEqual([]);
    expect(await userState()).toEqual(before);
  });

  it('still applies ordinary operations', async () => {
    const res = await scim(
      'PATCH',
      `/Users/${userId}`,
      patchBody(
        { op: 'replace', path: 'emails[type eq "work"].value', value: 'constructor-team@example.test' },
        { op: 'replace', value: { 'name.givenName': 'Victoria', [ENTERPRISE]: { department: 'Prototype lab' } } },
      ),
    );
    expect(res.status).toBe(200);
    expect(res.body.name.givenName).toBe('Victoria');
    expect(res.body.emails[0].value).toBe('constructor-team@example.test');
    expect(res.body[ENTERPRISE].department).toBe('Prototype lab');
  });
});

const groupPatches: Array<[string, string, string]> = [
  ['a __proto__ path', patchBody({ op: 'add', path: '__proto__', value: { bootstrap: true } }), 'invalidPath'],
  ['a constructor.prototype path', patchBody({ op: 'add', path: 'constructor.prototype.bootstrap', value: true }), 'invalidPath'],
  ['a forbidden name after a URN', patchBody({ op: 'add', path: 'urn:example:ext:__proto__', value: { bootstrap: true } }), 'invalidPath'],
  ['a member filter on __proto__', patchBody({ op: 'remove', path: 'members[__proto__ eq "x"]' }), 'invalidPath'],
  ['a no-path dotted key', patchBody({ op: 'add', value: { 'constructor.prototype.bootstrap': true } }), 'invalidPath'],
  ['a no-path key under a URN', patchBody({ op: 'add', value: { 'urn:example:ext:prototype': { bootstrap: true } } }), 'invalidPath'],
];

describe('SCIM PATCH /Groups refuses prototype paths and keys', () => {
  it.each(groupPatches)('%s', async (_name, body, scimType) => {
    const before = await groupState();
    expectScimError(await scim('PATCH', `/Groups/${groupId}`, body), scimType);
    expect(await groupState()).toEqual(before);
  });
});

describe('SCIM queries refuse prototype attribute names', () => {
  const queries: Array<[string, string]> = [
    ['filter=__proto__ eq "x"', 'invalidFilter'],
    ['filter=emails[__proto__ eq "x"]', 'invalidFilter'],
    ['filter=name.constructor pr', 'invalidFilter'],
    ['filter=userName eq "x" or urn:example:ext:Prototype.x eq 1', 'invalidFilter'],
    ['attributes=name.__proto__', 'invalidPath'],
    ['excludedAttributes=constructor', 'invalidPath'],
    ['sortBy=prototype', 'invalidPath'],
  ];
  it.each(queries)('GET /Users and /Groups ?%s', async (query, scimType) => {
    const q = query.replace(/ /g, '+');
    expectScimError(await scim('GET', `/Users?${q}`), scimType);
    expectScimError(await scim('GET', `/Groups?${q}`), scimType);
  });

  it.each([['attributes=__proto__'], ['excludedAttributes=name.constructor']])('GET /Users/{id} and /Groups/{id} ?%s', async (q) => {
    expectScimError(await scim('GET', `/Users/${userId}?${q}`), 'invalidPath');
    expectScimError(await scim('GET', `/Groups/${groupId}?${q}`), 'invalidPath');
  });

  it('still filters on values that contain those words', async () => {
    const res = await scim('GET', `/Users?filter=${encodeURIComponent('displayName eq "constructor prototype __proto__"')}`);
    expect(res.status).toBe(200);
    expect(res.body.totalResults).toBe(0);
  });
});

describe('SCIM POST and PUT refuse prototype keys', () => {
  const bodies: Array<[string, (userName: string) => string, string]> = [
    ['a constructor key', (u) => `{"userName":"${u}","name":{"constructor":{"prototype":{"bootstrap":true}}}}`, 'invalidSyntax'],
    ['a nested prototype key', (u) => `{"userName":"${u}","addresses":[{"prototype":{"bootstrap":true}}]}`, 'invalidSyntax'],
    ['a __proto__ key', (u) => `{"userName":"${u}","name":{"__proto__":{"bootstrap":true}}}`, 'invalidSyntax'],
    ['a dotted key', (u) => `{"userName":"${u}","name":{"x.__proto__":{"bootstrap":true}}}`, 'invalidPath'],
    ['a forbidden name after a URN', (u) => `{"userName":"${u}","urn:example:ext:constructor":{"bootstrap":true}}`, 'invalidPath'],
  ];
  it.each(bodies)('%s', async (_name, body, scimType) => {
    const userName = `new_${randomUUID()}`;
    expectScimError(await scim('POST', '/Users', body(userName)), scimType);
    expect(await t.app.services.users.lookup.findByUserName(userName)).toBeUndefined();
    const before = await userState();
    expectScimError(await scim('PUT', `/Users/${userId}`, body(before.scim.userName)), scimType);
    expect(await userState()).toEqual(before);
    const group = await groupState();
    expectScimError(await scim('PUT', `/Groups/${groupId}`, body('x').replace('"userName"', '"displayName"')), scimType);
    expect(await groupState()).toEqual(group);
  });
});
