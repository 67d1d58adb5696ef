/**
 * Fuzzing from /openapi.json: for every route, valid, boundary and hostile requests generated with
 * fast-check. Every answer is below 500, every 4xx carries the DESIGN.md error body, no secret we
 * sent (or hold) comes back in a body or a log line, and the server stays healthy.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollutionWatch } from '../helpers/pollution.js';
import { ADMIN, buildTestApp, type TestApp } from '../helpers/test-app.js';
import { budget, isErrorBody, isScimErrorBody, rawRequest, waitHealthy } from './helpers.js';

type Schema = Record<string, any>;
interface Route {
  method: string;
  path: string;
  op: Schema;
}

const SECRET = `Zq9secret${randomBytes(6).toString('hex')}`;
const SECRET_FIELD = /pass|secret|token|otp|code|key/i;
const RUNS = budget(12, 60);

let t: TestApp;
let doc: Schema;
let routes: Route[];
let victimUserId: string;
let victimKeyId: number;
const held: string[] = [];
/** The app runs in this process: a request that pollutes a built-in shows here (issue 14). */
const watch = pollutionWatch();

function deref(schema: Schema | undefined): Schema {
  let s = schema ?? {};
  for (let i = 0; i < 10 && typeof s.$ref === 'string'; i++) {
    const name = s.$ref.split('/').pop() as string;
    s = doc.components?.schemas?.[name] ?? {};
  }
  return s;
}

/** Values that satisfy (roughly) a JSON schema, at the edges of its bounds now and then. */
function arbitraryFor(raw: Schema | undefined, key = '', depth = 0): fc.Arbitrary<unknown> {
  const s = deref(raw);
  if (depth > 4) return fc.constant(null);
  if (SECRET_FIELD.test(key) && (s.type === 'string' || s.type === undefined)) {
    return fc.constantFrom(SECRET, `${SECRET}-${'x'.repeat(64)}`, ` ${SECRET} `);
  }
  if (s.const !== undefined) return fc.constant(s.const);
  if (Array.isArray(s.enum)) return fc.constantFrom(...s.enum);
  const variants = s.anyOf ?? s.oneOf;
  if (Array.isArray(variants) && variants.length > 0) return fc.oneof(...variants.map((v: Schema) => arbitraryFor(v, key, depth + 1)));
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'string': {
      const max = typeof s.maxLength === 'number' ? s.maxLength : 64;
      const min = typeof s.minLength === 'number' ? s.minLength : 0;
      if (s.format === 'email') return fc.oneof(fc.emailAddress(), fc.constant('a@b.c'));
      if (s.format === 'date-time') return fc.date({ noInvalidDate: true }).map((d) => d.toISOString());
      if (s.format === 'uuid') return fc.uuid();
      return fc.oneof(
        fc.string({ minLength: min, maxLength: Math.min(max, 40) }),
        fc.constant('x'.repeat(Math.min(max, 100_000))),
        fc.constant('x'.repeat(Math.min(max + 1, 100_001))),
        fc.constant(''),
        fc.string({ unit: 'grapheme', maxLength: 20 }),
      );
    }
    case 'integer':
    case 'number': {
      const lo = typeof s.minimum === 'number' ? s.minimum : -1e6;
      const hi = typeof s.maximum === 'number' ? s.maximum : 1e6;
      return fc.oneof(fc.integer({ min: Math.ceil(lo), max: Math.floor(hi) }), fc.constantFrom(lo, hi, lo - 1, hi + 1));
    }
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(arbitraryFor(s.items, key, depth + 1), {
        maxLength: Math.min(typeof s.maxItems === 'number' ? s.maxItems + 1 : 4, 6),
      });
    case 'object':
    case undefined: {
      const props = (s.properties ?? {}) as Record<string, Schema>;
      const required = new Set<string>(s.required ?? []);
      const shape: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, v] of Object.entries(props)) shape[k] = arbitraryFor(v, k, depth + 1);
      if (Object.keys(shape).length === 0) return fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 });
      return fc.record(shape, { requiredKeys: [...required].filter((k) => k in shape) });
    }
    default:
      return fc.constant(null);
  }
}

/** Anything at all, where a typed value belongs. */
const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.constant({ $gt: '' }),
  fc.string({ maxLength: 10 }),
);

interface Attempt {
  body?: string | Buffer;
  contentType?: string;
}

function deep(n: number): string {
  return `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
}

/** Bodies that no schema allows: each one is a kind of attack or mistake. */
const hostileBody: fc.Arbitrary<Attempt> = fc.oneof(
  fc.constant({ body: deep(5000), contentType: 'application/json' }),
  fc.constant({ body: `[${'['.repeat(20_000)}${']'.repeat(20_000)}]`, contentType: 'application/json' }),
  fc.constant({
    body: `{"__proto__":{"isSuperadmin":true,"roles":["superadmin"]},"password":"${SECRET}"}`,
    contentType: 'application/json',
  }),
  fc.constant({
    body: `{"constructor":{"prototype":{"isSuperadmin":true}},"username":"x","password":"${SECRET}"}`,
    contentType: 'application/json',
  }),
  fc.constant({ body: `{"username":"a","username":"b","password":"${SECRET}","password":"${SECRET}2"}`, contentType: 'application/json' }),
  fc.constant({
    body: Buffer.concat([
      Buffer.from('{"username":"'),
      Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0xed, 0xa0, 0x80]),
      Buffer.from(`","password":"${SECRET}"}`),
    ]),
    contentType: 'application/json',
  }),
  fc.constant({ body: Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]), contentType: 'application/json' }),
  fc.constant({ body: `{"password":"${SECRET}"`, contentType: 'application/json' }),
  fc.constant({ body: `'{"password":"${SECRET}"}'`, contentType: 'application/json' }),
  fc.constant({ body: `password=${SECRET}&username=admin`, contentType: 'application/x-www-form-urlencoded' }),
  fc.constant({ body: `{"password":"${SECRET}"}`, contentType: 'text/plain' }),
  fc.constant({ body: `{"password":"${SECRET}"}`, contentType: 'application/json; charset=utf-16' }),
  fc.constant({ body: `{"password":"${SECRET}"}`, contentType: 'multipart/form-data; boundary=x' }),
  fc.constant({ body: 'x'.repeat(1_100_000), contentType: 'application/json' }),
  fc.constant({ body: JSON.stringify({ a: 'x'.repeat(900_000), password: SECRET }), contentType: 'application/json' }),
  fc.constant({ body: 'null', contentType: 'application/json' }),
  fc.constant({ body: '[]', contentType: 'application/json' }),
  fc.constant({ body: '"string"', contentType: 'application/json' }),
  fc.constant({ body: '1e309', contentType: 'application/json' }),
  fc.constant({ body: '', contentType: 'application/json' }),
  fc.string({ maxLength: 50 }).map((s) => ({ body: s, contentType: 'application/json' })),
);

// ---------- prototype names (issue 14) ----------

const PROTO_WORDS = ['__proto__', 'constructor', 'prototype', '__PROTO__', 'Constructor', 'PROTOTYPE'] as const;
/** Attribute paths and filters that walked scim-patch (or a naive path walk) onto a shared prototype. */
const PROTO_PATHS = [
  '__proto__.bootstrap',
  'constructor.prototype.bootstrap',
  'name.__proto__.bootstrap',
  'name.constructor.prototype.bootstrap',
  'emails[type eq "work"].__proto__.bootstrap',
  'emails[__proto__ eq "x"].value',
  '__proto__',
  '__proto__:bootstrap',
  'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:__proto__',
  'Constructor.Prototype.bootstrap',
  'a".__proto__."b',
  '__proto__ eq "x"',
  'members[value eq "x"].constructor',
] as const;
/** Text naming a prototype: for string values, path parameters and query values. */
const protoText: fc.Arbitrary<string> = fc.constantFrom(...PROTO_WORDS, ...PROTO_PATHS);
/** A key naming a prototype, bare or inside a dotted or URN key. */
const protoKey: fc.Arbitrary<string> = fc.constantFrom(...PROTO_WORDS, ...PROTO_PATHS.filter((p) => !p.includes(' ')));
const protoValue: fc.Arbitrary<unknown> = fc.constantFrom(true, 'x', { bootstrap: true }, [{ bootstrap: true }], {
  prototype: { bootstrap: true },
});

/** Every object (not array) inside a JSON value, the value itself included. */
function objectsIn(value: unknown): Record<string, unknown>[] {
  const found: Record<string, unknown>[] = [];
  const stack = [value];
  while (stack.length) {
    const v = stack.pop();
    if (Array.isArray(v)) stack.push(...v);
    else if (v && typeof v === 'object') {
      found.push(v as Record<string, unknown>);
      stack.push(...Object.values(v));
    }
  }
  return found;
}

/**
 * A deep copy of `value` with each `[key, value, at]` added as an own property of the `at`-th object
 * inside it (at any depth). Defined, not assigned: `o.__proto__ = …` would set the prototype.
 */
function withKeys(value: unknown, additions: Array<[string, unknown, number]>): unknown {
  const root: unknown = JSON.parse(JSON.stringify(value ?? null)) ?? {};
  const target = objectsIn(root).length ? root : {};
  const objects = objectsIn(target);
  for (const [key, v, at] of additions) {
    Object.defineProperty(objects[at % objects.length], key, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return target;
}

/** A deep copy of `value` with the `at`-th string values (at any depth, in objects and arrays) replaced. */
function withStrings(value: unknown, replacements: Array<[string, number]>): unknown {
  const root: unknown = JSON.parse(JSON.stringify(value ?? null));
  const slots: Array<[Record<string, unknown>, string]> = [];
  const stack: unknown[] = [root];
  while (stack.length) {
    const v = stack.pop();
    if (!v || typeof v !== 'object') continue;
    for (const [k, child] of Object.entries(v)) {
      if (typeof child === 'string') slots.push([v as Record<string, unknown>, k]);
      else stack.push(child);
    }
  }
  if (!slots.length) return typeof root === 'string' ? (replacements[0]?.[0] ?? root) : root;
  for (const [text, at] of replacements) {
    const [holder, key] = slots[at % slots.length]!;
    holder[key] = text;
  }
  return root;
}

const pathParam = (name: string): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constant(name === 'id' ? victimUserId : 'x'),
    fc.constant(String(victimKeyId)),
    fc.uuid(),
    fc.integer({ min: -5, max: 1e12 }).map(String),
    fc.constantFrom('__proto__', 'constructor', '..%2F..%2Fetc%2Fpasswd', '%00', '%FF%FE', "1' OR '1'='1", '0x10', '1e3', '-0', 'NaN'),
    protoText.map(encodeURIComponent),
    fc.constant('y'.repeat(600)),
    fc.string({ minLength: 1, maxLength: 20 }).map(encodeURIComponent),
  );

const queryString: fc.Arbitrary<string> = fc
  .array(
    fc.tuple(
      fc.constantFrom(
        'pageSize',
        'pageToken',
        'filter',
        'request',
        '__proto__',
        'constructor[prototype][x]',
        'constructor',
        'prototype',
        '__proto__[bootstrap]',
        'a[b][c]',
        'userName',
        'action',
        'attributes',
        'excludedAttributes',
        'sortBy',
      ),
      fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('-1', '1e9', '0', 'x'.repeat(5000), '%FF', '[]', '{}'), protoText),
    ),
    { maxLength: 4 },
  )
  .map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&'));

type Auth = 'none' | 'bearer' | 'apikey' | 'basic' | 'garbage' | 'huge';
const authArb = fc.constantFrom<Auth>('none', 'bearer', 'apikey', 'basic', 'garbage', 'huge');

async function headersFor(auth: Auth): Promise<Record<string, string>> {
  switch (auth) {
    case 'bearer': {
      const admin = (await t.app.services.users.lookup.findById(t.adminId))!;
      const issued = await t.app.services.sessions.issueSession(t.context(), admin, { method: 'password' });
      held.push(issued.token, issued.refreshToken);
      return { authorization: `Bearer ${issued.token}` };
    }
    case 'apikey':
      return { 'x-api-key': t.adminKey };
    case 'basic':
      return { authorization: `Basic ${Buffer.from(`nokey:${SECRET}`).toString('base64')}` };
    case 'garbage':
      return { authorization: `Bearer ${SECRET}.${SECRET}.${SECRET}`, cookie: `access-token=${SECRET}; refresh-token=${SECRET}` };
    case 'huge':
      return { authorization: `Bearer ${'a'.repeat(8000)}`, 'x-api-key': 'b'.repeat(4000) };
    default:
      return {};
  }
}

/** Sends one request and checks the answer; returns its status. */
async function check(method: string, url: string, headers: Record<string, string>, body?: string | Buffer): Promise<number> {
  const res = await fetch(url, { method, headers, ...(body !== undefined && method !== 'GET' && method !== 'HEAD' ? { body } : {}) });
  const text = await res.text();
  const where = `${res.status} ← ${method} ${url.replace(t.url, '').slice(0, 120)}: ${text.slice(0, 300)}`;
  // After every request: nothing it carried reached a shared prototype (the check also undoes it).
  expect(watch.check(), `built-ins polluted by ${where} ${typeof body === 'string' ? body.slice(0, 300) : ''}`).toEqual([]);
  // Load shedding (@fastify/under-pressure) on a saturated machine is the one 5xx allowed: 503 service.unavailable.
  if (res.status === 503 && text.includes('"service.unavailable"')) return res.status;
  expect(res.status, where).toBeLessThan(500);
  if (res.status >= 400) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const scim = url.startsWith(`${t.url}/scim/v2`);
    // SCIM routes answer RFC 7644 errors; a URL refused before routing gets ours there too.
    expect(isErrorBody(parsed, res.status) || (scim && isScimErrorBody(parsed, res.status)), where).toBe(true);
  }
  expect(text.includes(SECRET), `secret echoed: ${where}`).toBe(false);
  for (const h of held) expect(text.includes(h), `held secret echoed: ${where}`).toBe(false);
  return res.status;
}

function urlFor(route: Route, params: Record<string, string>, query: string): string {
  const path = route.path.replace(/\{(\w+)\}/g, (_m, name: string) => params[name] ?? 'x');
  return `${t.url}${path}${query ? `?${query}` : ''}`;
}

describe('fuzzing every route from /openapi.json', () => {
  beforeAll(async () => {
    t = await buildTestApp({ PORTCULLIS_LOGIN_RATE_PER_IP: '0' });
    held.push(ADMIN.password, t.adminKey);
    await waitHealthy(t.url);
    const res = await fetch(`${t.url}/openapi.json`);
    doc = (await res.json()) as Schema;
    routes = [];
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, Schema>>)) {
      for (const [method, op] of Object.entries(item)) {
        if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
        if (path.startsWith('/docs')) continue;
        routes.push({ method: method.toUpperCase(), path, op });
      }
    }
    const victim = await t.createUser({});
    victimUserId = victim.id;
    victimKeyId = (await t.createApiKey(victim.id)).id;
  });
  afterAll(async () => {
    if (t) expect(t.logs().includes(SECRET), 'a secret reached the logs').toBe(false);
    await t?.close();
    expect(watch.check(), 'built-ins polluted').toEqual([]);
  });

  it('found the routes', () => {
    expect(routes.length).toBeGreaterThan(10);
  });

  it('answers every route with valid, boundary and wrongly typed bodies without a 5xx', async () => {
    for (const route of routes) {
      const bodySchema = route.op.requestBody?.content?.['application/json']?.schema;
      const paramNames = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string);
      const params = fc.record(Object.fromEntries(paramNames.map((n) => [n, pathParam(n)])) as Record<string, fc.Arbitrary<string>>);
      const body = fc.oneof(
        { weight: 3, arbitrary: arbitraryFor(bodySchema) },
        { weight: 1, arbitrary: wrongType },
        {
          weight: 1,
          arbitrary: arbitraryFor(bodySchema).map((v) =>
            v && typeof v === 'object' && !Array.isArray(v) ? { ...(v as object), extra: SECRET, roles: ['superadmin'], id: 'x' } : v,
          ),
        },
      );
      await fc.assert(
        fc.asyncProperty(params, queryString, body, authArb, async (p, q, b, auth) => {
          const headers = { ...(await headersFor(auth)), 'content-type': 'application/json' };
          await check(route.method, urlFor(route, p, q), headers, route.method === 'GET' ? undefined : JSON.stringify(b ?? null));
        }),
        { numRuns: RUNS },
      );
    }
  });

  it('answers every route with hostile bodies without a 5xx', async () => {
    for (const route of routes.filter((r) => r.method !== 'GET' && r.method !== 'DELETE')) {
      await fc.assert(
        fc.asyncProperty(hostileBody, authArb, async (attempt, auth) => {
          const headers: Record<string, string> = { ...(await headersFor(auth)) };
          if (attempt.contentType) headers['content-type'] = attempt.contentType;
          await check(route.method, urlFor(route, { id: victimUserId }, ''), headers, attempt.body);
        }),
        { numRuns: Math.ceil(RUNS / 2) },
      );
    }
  });

  it('answers every route with prototype names in keys at any depth, string values, path parameters and queries', async () => {
    for (const route of routes) {
      const bodySchema = route.op.requestBody?.content?.['application/json']?.schema;
      const paramNames = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string);
      const params = fc.record(Object.fromEntries(paramNames.map((n) => [n, pathParam(n)])) as Record<string, fc.Arbitrary<string>>);
      const body = fc.oneof(
        fc
          .tuple(arbitraryFor(bodySchema), fc.array(fc.tuple(protoKey, protoValue, fc.nat()), { minLength: 1, maxLength: 3 }))
          .map(([v, additions]) => withKeys(v, additions)),
        fc
          .tuple(arbitraryFor(bodySchema), fc.array(fc.tuple(protoText, fc.nat()), { minLength: 1, maxLength: 3 }))
          .map(([v, replacements]) => withStrings(v, replacements)),
      );
      const contentType = fc.constantFrom('application/json', 'application/scim+json', 'text/plain');
      await fc.assert(
        fc.asyncProperty(params, queryString, body, authArb, contentType, async (p, q, b, auth, type) => {
          const headers = { ...(await headersFor(auth)), 'content-type': type };
          await check(route.method, urlFor(route, p, q), headers, route.method === 'GET' ? undefined : JSON.stringify(b));
        }),
        { numRuns: RUNS },
      );
    }
  });

  it('answers SCIM PATCH operations on prototype paths and keys with a 400, on a real user and group', async () => {
    const scimHeaders = { 'x-api-key': t.adminKey, 'content-type': 'application/scim+json' };
    // A user and a group of its own: the routes above may have deleted or changed the shared victim.
    const create = async (path: string, resource: unknown): Promise<string> => {
      const res = await fetch(`${t.url}/scim/v2${path}`, { method: 'POST', headers: scimHeaders, body: JSON.stringify(resource) });
      const text = await res.text();
      expect(res.status, text).toBe(201);
      return (JSON.parse(text) as { id: string }).id;
    };
    const suffix = randomBytes(4).toString('hex');
    const userId = await create('/Users', {
      userName: `fuzz-${suffix}`,
      name: { givenName: 'F' },
      emails: [{ type: 'work', value: `fuzz-${suffix}@example.test` }],
    });
    const groupId = await create('/Groups', { displayName: `fuzz-${suffix}`, members: [{ value: userId }] });
    const value = fc.oneof(
      protoValue,
      fc.array(fc.tuple(protoKey, protoValue, fc.nat()), { minLength: 1, maxLength: 2 }).map((a) => withKeys({ name: {} }, a)),
    );
    const operation = fc.record({
      op: fc.constantFrom('add', 'replace', 'remove', 'Add', 'Replace'),
      path: fc.option(
        fc.oneof(
          fc.constantFrom(...PROTO_PATHS),
          protoText.map((w) => `name.${w}.x`),
        ),
        { nil: undefined },
      ),
      value,
    });
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 3 }), fc.boolean(), async (operations, onGroup) => {
        const target = onGroup ? `/scim/v2/Groups/${groupId}` : `/scim/v2/Users/${userId}`;
        const body = JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: operations });
        const status = await check('PATCH', `${t.url}${target}`, scimHeaders, body);
        // Every path above names a prototype, and so does every key the values add; a remove needs a
        // path and a no-path operation an object. Only `{"bootstrap": true}` without path is acceptable.
        const acceptable = operations.every(
          (o) => o.path === undefined && o.op !== 'remove' && JSON.stringify(o.value) === '{"bootstrap":true}',
        );
        if (status !== 503) expect(status, `${target} ${body}`).toBe(acceptable ? (onGroup ? 204 : 200) : 400);
      }),
      { numRuns: RUNS * 4 },
    );
  });

  it('survives header abuse and malformed HTTP', async () => {
    const cases: Array<{ head: string; body?: Buffer }> = [
      { head: `GET /v1/auth/user HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${'a'.repeat(70_000)}\r\nConnection: close\r\n\r\n` },
      {
        head: `GET /v1/auth/user HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 3000 }, (_, i) => `X-H${i}: ${i}`).join('\r\n')}\r\nConnection: close\r\n\r\n`,
      },
      { head: 'GET /v1/auth/user HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\r\nAuthorization: Basic b\r\nConnection: close\r\n\r\n' },
      { head: 'GET /v1/auth/user HTTP/1.1\r\nHost: x\r\nx-api-key: a\r\nx-api-key: b\r\nConnection: close\r\n\r\n' },
      { head: `GET /v1/auth/user HTTP/1.1\r\nHost: x\r\nAuthorization: \xff\xfe\r\nConnection: close\r\n\r\n` },
      { head: 'GET /v1/auth/user HTTP/1.1\r\nHost: x\r\nCookie: access-token=%ZZ; access-token=1\r\nConnection: close\r\n\r\n' },
      {
        head: 'POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n',
        body: Buffer.from('{}'),
      },
      {
        head: 'POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n',
        body: Buffer.from('2\r\n{}\r\n0\r\n\r\n'),
      },
      {
        head: 'POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: -1\r\nConnection: close\r\n\r\n',
      },
      {
        head: 'POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: 2\r\nConnection: close\r\n\r\n',
        body: Buffer.from('{}'),
      },
      { head: 'GET /v1/users/%E0%A4%A HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' },
      { head: 'GET /v1/users?pageSize=1&pageSize=2&pageSize[x]=3 HTTP/1.1\r\nHost: x\r\nx-api-key: k\r\nConnection: close\r\n\r\n' },
      { head: 'BREW /v1/auth/user HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' },
      { head: 'GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' },
      { head: 'GET /v1/auth/user HTTP/1.1\r\nHost: x\r\nX-Request-Id: <script>\r\nConnection: close\r\n\r\n' },
      { head: 'GET  HTTP/1.1\r\n\r\n' },
      { head: 'garbage\r\n\r\n' },
    ];
    for (const c of cases) {
      const res = await rawRequest(t.url, c.head.replace('x-api-key: k', `x-api-key: ${t.adminKey}`), c.body);
      const where = `${res.status} ← ${c.head.slice(0, 60)}: ${res.body.slice(0, 200)}`;
      if (res.status === 0) continue; // the connection was closed without an answer: allowed for unparseable HTTP
      expect(res.status, where).toBeLessThan(500);
      if (res.status >= 400) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(res.body);
        } catch {
          parsed = undefined;
        }
        expect(isErrorBody(parsed, res.status), where).toBe(true);
      }
    }
  });

  it('is still healthy and still serves a real sign-in', async () => {
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${t.url}/readyz`)).status).toBe(200);
    const res = await t.req('POST', '/v1/auth/login', { json: { username: ADMIN.userName, password: ADMIN.password } });
    expect(res.status).toBe(200);
  });
});
