import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pollutionWatch } from '../helpers/pollution.js';
import { ADMIN, buildTestApp, type TestApp, type TestResponse, unique } from '../helpers/test-app.js';

/**
 * Every body parser (the default JSON one, the lenient one of the Bytebase auth routes, the strict one
 * of HelloID's routes) refuses `__proto__`, `constructor` and `prototype` keys at any depth, in any
 * letter case and however they are escaped: 400 `request.malformed_body`, nothing done.
 * @see issue 14 ("Input that reaches object paths")
 */

let t: TestApp;
const watch = pollutionWatch();

beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(async () => {
  await t?.close();
});
afterEach(() => {
  expect(watch.check(), 'built-in objects were polluted').toEqual([]);
});

function expectMalformed(res: TestResponse) {
  expect({ status: res.status, body: res.body }).toEqual({
    status: 400,
    body: {
      success: false,
      code: 3,
      message: 'The request body could not be parsed.',
      error: 'request.malformed_body',
      status: 400,
      details: expect.any(Array),
    },
  });
}

/** Keys written as JSON text (a `__proto__` key in a JS object literal sets the prototype instead). */
const forbidden: Array<[string, (fields: string) => string]> = [
  ['a top-level constructor key', (f) => `{${f},"constructor":{"bootstrap":true}}`],
  ['a nested prototype key', (f) => `{${f},"profile":{"a":[{"prototype":{"bootstrap":true}}]}}`],
  ['a constructor key in another case', (f) => `{${f},"settings":{"Constructor":1}}`],
  ['an escaped constructor key', (f) => `{${f},"\\u0063onstructor":{"bootstrap":true}}`],
  ['an escaped prototype key in another case', (f) => `{${f},"x":{"PROTO\\u0054YPE":1}}`],
  ['a __PROTO__ key', (f) => `{${f},"__PROTO__":{"bootstrap":true}}`],
];

describe('the default JSON parser', () => {
  it.each(forbidden)('refuses %s (application/json and application/*+json)', async (_name, body) => {
    for (const type of ['application/json', 'application/json-patch+json']) {
      const userName = unique('keys');
      const res = await t.req('POST', '/v1/users', {
        apiKey: t.adminKey,
        body: body(`"userName":"${userName}"`),
        headers: { 'content-type': type },
      });
      expectMalformed(res);
      expect(await t.app.services.users.lookup.findByUserName(userName)).toBeUndefined();
    }
  });

  it('names where the key is', async () => {
    const res = await t.req('POST', '/v1/users', {
      apiKey: t.adminKey,
      body: `{"userName":"x","profile":{"a":[1,{"prototype":{}}]}}`,
      headers: { 'content-type': 'application/json' },
    });
    expectMalformed(res);
    expect(res.body.details).toEqual(['body.profile.a[1].prototype']);
  });

  it('accepts those words as values and inside longer keys', async () => {
    const userName = unique('constructor');
    const res = await t.req('POST', '/v1/users', {
      apiKey: t.adminKey,
      body: JSON.stringify({ userName, title: 'prototype constructor', constructorName: 'x' }),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(201);
  });
});

describe('the lenient parser of the Bytebase auth routes', () => {
  it.each(forbidden)('refuses %s whatever the content type, before checking credentials', async (_name, body) => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', undefined]) {
      const res = await t.req('POST', '/v1/auth/login', {
        body: body(`"username":"${ADMIN.userName}","password":"${ADMIN.password}"`),
        ...(type ? { headers: { 'content-type': type } } : {}),
      });
      expectMalformed(res);
      expect(res.body.token).toBeUndefined();
    }
  });
});

describe('the strict parser of the HelloID routes', () => {
  it.each(forbidden)('refuses %s and sets no password', async (_name, body) => {
    const admin = await t.createUser({ roles: ['admin'] });
    const key = await t.createApiKey(admin.id, ['credentials:write']);
    const user = await t.createUser({});
    const before = (await t.app.services.users.lookup.findById(user.id))?.passwordHash;
    const res = await t.req('POST', `/api/v1/users/addUserCredentials/${user.userName}`, {
      body: body(`"userName":"${user.userName}","password":"Another-long-passphrase-42"`),
      headers: {
        authorization: `Basic ${Buffer.from(`${key.key}:${key.secret}`).toString('base64')}`,
        'content-type': 'application/json',
      },
    });
    expectMalformed(res);
    expect((await t.app.services.users.lookup.findById(user.id))?.passwordHash).toBe(before);
  });
});
