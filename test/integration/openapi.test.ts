import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResponseValidator } from '../helpers/openapi-check.js';
import { buildTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * @see issue 16 — the served OpenAPI document failed Redocly (no operationId, no summaries, `def-N`
 * schemas), listed every scheme on every operation (public ones included), documented SCIM as
 * application/json with untyped resources, and disagreed with the server (415 on POST /v1/users,
 * logout's required body, /readyz's body, /metrics absent).
 */

type Json = Record<string, any>;
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

let t: TestApp;
let doc: Json;
const operations: { path: string; method: string; op: Json }[] = [];

beforeAll(async () => {
  t = await buildTestApp({ PORTCULLIS_PUBLIC_URL: 'https://id.example.test' });
  const res = await t.req('GET', '/openapi.json');
  expect(res.status).toBe(200);
  doc = res.body;
  for (const [path, item] of Object.entries(doc.paths as Record<string, Json>)) {
    for (const method of METHODS) if (item[method]) operations.push({ path, method, op: item[method] });
  }
});
afterAll(async () => t?.close());

const op = (method: string, path: string): Json => {
  const found = doc.paths[path]?.[method];
  if (!found) throw new Error(`${method} ${path} is not documented`);
  return found;
};
const isPublic = (o: Json) => Array.isArray(o.security) && o.security.length === 0;

describe('the OpenAPI document', () => {
  it('names every operation (unique camelCase operationId) and gives it a summary, a description and declared tags', () => {
    expect(operations.length).toBeGreaterThan(60);
    const ids = new Set<string>();
    const tags = new Map((doc.tags as { name: string; description?: string }[]).map((tag) => [tag.name, tag.description]));
    for (const { path, method, op: o } of operations) {
      const where = `${method} ${path}`;
      expect(o.operationId, where).toMatch(/^[a-z][A-Za-z0-9]*$/);
      expect(ids.has(o.operationId), `${where}: duplicate ${o.operationId}`).toBe(false);
      ids.add(o.operationId);
      expect(o.summary, where).toEqual(expect.any(String));
      expect(o.description, where).toEqual(expect.any(String));
      expect(o.tags?.length, where).toBeGreaterThan(0);
      for (const tag of o.tags) expect(tags.get(tag), `${where}: tag ${tag}`).toEqual(expect.any(String));
    }
    // The SDK helpers call these by name.
    expect(op('post', '/v1/auth/login').operationId).toBe('login');
    expect(op('get', '/v1/auth/user').operationId).toBe('getCurrentUser');
    expect(op('post', '/v1/api-keys').operationId).toBe('createApiKey');
    expect(op('post', '/logins/upsert').operationId).toBe('upsertLogin');
  });

  it('names every component schema', () => {
    const names = Object.keys(doc.components.schemas);
    expect(names.filter((n) => /^def-\d+$/.test(n))).toEqual([]);
    for (const name of ['ErrorBody', 'User', 'Login', 'ApiKey', 'Organization', 'ScimUser', 'ScimGroup', 'ScimError']) {
      expect(names, name).toContain(name);
    }
    for (const name of ['ScimServiceProviderConfig', 'ScimResourceType', 'ScimSchema', 'ScimUserListResponse', 'ScimEnterpriseUser']) {
      expect(names, name).toContain(name);
    }
    expect(op('get', '/v1/users/{id}').responses['200'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/User' });
  });

  it('says where it is served and under which license', () => {
    expect(doc.servers).toEqual([expect.objectContaining({ url: 'https://id.example.test' })]);
    expect(doc.info.license).toEqual(expect.objectContaining({ name: 'Apache-2.0' }));
  });

  it('lists one scheme per security requirement, Bearer first; HelloID puts Basic first', () => {
    for (const { path, method, op: o } of operations) {
      if (isPublic(o)) continue;
      const where = `${method} ${path}`;
      for (const requirement of o.security) expect(Object.keys(requirement), where).toHaveLength(1);
      const first = Object.keys(o.security[0])[0];
      if (path.startsWith('/api/v1/users/')) expect(first, where).toBe('basic');
      else if (path === '/metrics') expect(first, where).toBe('metricsToken');
      else expect(first, where).toBe('bearer');
    }
  });

  it('marks exactly the operations that answer without a credential public (security: [])', async () => {
    for (const { path, method, op: o } of operations) {
      if (path === '/metrics') continue; // its own token; 404 without PORTCULLIS_METRICS_TOKEN
      const url = path.replace(/\{[^}]+\}/g, (p) => (p === '{id}' && path.startsWith('/v1/api-keys') ? '1' : 'x'));
      const res = await t.req(method.toUpperCase(), url);
      const refused =
        res.status === 401 &&
        (res.body?.error === 'auth.unauthenticated' || String(res.body?.detail).startsWith('Authentication is required'));
      expect(refused, `${method} ${path} answered ${res.status} ${res.text.slice(0, 120)}`).toBe(!isPublic(o));
    }
    for (const [method, path] of [
      ['get', '/healthz'],
      ['get', '/readyz'],
      ['get', '/.well-known/jwks.json'],
      ['post', '/v1/auth/login'],
      ['post', '/v1/auth/logout'],
      ['get', '/scim/v2/ServiceProviderConfig'],
    ] as const) {
      expect(op(method, path).security, `${method} ${path}`).toEqual([]);
    }
  });

  it('documents SCIM as application/scim+json, requests and answers', () => {
    const scim = operations.filter((o) => o.path.startsWith('/scim/v2/'));
    expect(scim.length).toBeGreaterThan(10);
    for (const { path, method, op: o } of scim) {
      const where = `${method} ${path}`;
      if (o.requestBody) expect(Object.keys(o.requestBody.content), where).toContain('application/scim+json');
      for (const [status, response] of Object.entries(o.responses as Record<string, Json>)) {
        if (!response.content) continue;
        expect(Object.keys(response.content), `${where} ${status}`).toContain('application/scim+json');
        // Load shedding answers before the SCIM scope: only 503 may also be DESIGN.md's error body.
        if (status !== '503') expect(Object.keys(response.content), `${where} ${status}`).toEqual(['application/scim+json']);
      }
    }
    const user = doc.components.schemas.ScimUser;
    for (const attribute of [
      'name',
      'emails',
      'phoneNumbers',
      'addresses',
      'groups',
      'meta',
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
    ]) {
      expect(user.properties[attribute], attribute).toBeDefined();
    }
  });

  it('agrees with the server on the statuses and bodies found wrong', () => {
    expect(Object.keys(op('post', '/v1/users').responses)).toEqual(
      expect.arrayContaining(['201', '400', '401', '403', '413', '415', '503']),
    );
    expect(op('post', '/v1/auth/logout').requestBody?.required ?? false).toBe(false);
    expect(op('get', '/readyz').responses['200'].content['application/json'].schema).toBeDefined();
    expect(op('get', '/metrics').responses['200'].content['text/plain']).toBeDefined();
    for (const { path, method, op: o } of operations) {
      const statuses = Object.keys(o.responses);
      expect(statuses, `${method} ${path}`).toContain('503');
      if (!isPublic(o) && path !== '/metrics') expect(statuses, `${method} ${path}`).toEqual(expect.arrayContaining(['401', '403']));
      if (['post', 'put', 'patch'].includes(method)) expect(statuses, `${method} ${path}`).toContain('413');
    }
  });
});

describe('the answers checked against the document', () => {
  it('catch an undocumented status, an undocumented content type and a body that does not match', async () => {
    const v = createResponseValidator(doc);
    const json = new Headers({ 'content-type': 'application/json; charset=utf-8' });
    const ok = await t.req('GET', '/v1/auth/user', { apiKey: t.adminKey });
    expect(v.check('GET', '/v1/auth/user', { status: 200, headers: ok.headers, text: ok.text })).toBeUndefined();
    expect(v.check('GET', '/v1/auth/user', { status: 200, headers: json, text: JSON.stringify({ success: 'yes', user: {} }) })).toMatch(
      /getCurrentUser.*body does not match/s,
    );
    expect(v.check('GET', '/v1/auth/user', { status: 418, headers: json, text: '{}' })).toMatch(/status the document does not list/);
    expect(v.check('GET', '/v1/auth/user', { status: 200, headers: new Headers({ 'content-type': 'text/html' }), text: '<p>' })).toMatch(
      /as text\/html, documented: application\/json/,
    );
    expect(v.check('DELETE', '/scim/v2/Users/abc', { status: 204, headers: json, text: '{}' })).toMatch(/body the document says is empty/);
    // A SCIM error in the place of ErrorBody is a mismatch too.
    expect(
      v.check('GET', '/v1/users/abc', { status: 404, headers: json, text: JSON.stringify({ schemas: ['x'], status: '404' }) }),
    ).toMatch(/getUser.*body does not match/s);
  });

  it('are checked on every request of the suite (the helper throws on a mismatch)', async () => {
    const validator = t.contract;
    const original = validator.check;
    validator.check = () => 'OpenAPI mismatch: forced';
    try {
      await expect(t.req('GET', '/healthz')).rejects.toThrow('OpenAPI mismatch: forced');
    } finally {
      validator.check = original;
    }
  });
});

describe('SCIM answers what it documents', () => {
  const scim = (method: string, path: string, json?: unknown) =>
    t.req(method, `/scim/v2${path}`, {
      apiKey: t.adminKey,
      headers: { 'content-type': 'application/scim+json' },
      ...(json === undefined ? {} : { json }),
    });

  it('refuses RFC 7643 attributes of another type, in a body and through PATCH (they would be answered as documented types)', async () => {
    const userName = `typed-${Date.now()}@example.test`;
    const wrong = await scim('POST', '/Users', { userName, emails: 'not-a-list' });
    expect(wrong.status, wrong.text).toBe(400);
    expect(wrong.headers.get('content-type')).toMatch(/^application\/scim\+json/);
    const created = await scim('POST', '/Users', { userName, name: { givenName: 'Ada' }, emails: [{ value: userName, primary: true }] });
    expect(created.status, created.text).toBe(201);
    const patched = await scim('PATCH', `/Users/${created.body.id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'name', value: 'Ada Lovelace' }],
    });
    expect(patched.status, patched.text).toBe(400);
    expect(patched.body).toMatchObject({ status: '400', scimType: 'invalidValue' });
    expect(patched.body.detail).toContain('name');
    // Entra's "True" for `primary` is kept as the boolean RFC 7643 defines.
    const entra = await scim('PATCH', `/Users/${created.body.id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'emails', value: [{ value: userName, type: 'work', primary: 'True' }] }],
    });
    expect(entra.status, entra.text).toBe(200);
    expect(entra.body.emails).toEqual([{ value: userName, type: 'work', primary: true }]);
  });
});
