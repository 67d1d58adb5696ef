import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPublicAddress } from '../../src/federation/outbound/addresses.js';
import { endpointSecretAad } from '../../src/webhooks/webhooks.sealed.js';
import { buildTestApp, PG_URL, type TestApp, unique } from '../helpers/test-app.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

/** @see issue 20 — webhooks on the Standard Webhooks specification, verified by a real receiver on loopback. */

/** Small delays so retries, the breaker and the polling happen within a test. */
const FAST = {
  PORTCULLIS_WEBHOOKS_ALLOW_PRIVATE_HOSTS: 'true',
  PORTCULLIS_WEBHOOKS_POLL_MS: '50',
  PORTCULLIS_WEBHOOKS_RETRY_BASE_MS: '50',
  PORTCULLIS_WEBHOOKS_RETRY_MAX_MS: '200',
  PORTCULLIS_WEBHOOKS_TIMEOUT_MS: '2000',
  PORTCULLIS_WEBHOOKS_BREAKER_THRESHOLD: '1000',
  PORTCULLIS_METRICS_TOKEN: 'metrics-token-for-the-webhooks-test-0123456789',
};

let t: TestApp;
const receivers: WebhookReceiver[] = [];
const receiver = async (): Promise<WebhookReceiver> => {
  const r = await startWebhookReceiver();
  receivers.push(r);
  return r;
};
/** Every secret answered by the API: none may show up in a log, an audit record or another response. */
const secrets: string[] = [];

beforeAll(async () => {
  t = await buildTestApp(FAST);
});
afterAll(async () => {
  await t?.close();
  for (const r of receivers) await r.close();
});

async function createEndpoint(app: TestApp, r: WebhookReceiver, body: Record<string, unknown> = {}, apiKey = app.adminKey) {
  const res = await app.req('POST', '/v1/webhooks', { apiKey, json: { url: r.url, eventTypes: ['user.created'], ...body } });
  expect(res.status, res.text).toBe(201);
  secrets.push(res.body.secret);
  r.secrets.push(res.body.secret);
  return res.body as { id: string; secret: string; [k: string]: unknown };
}

async function deliveries(app: TestApp, id: string, query = '') {
  const res = await app.req('GET', `/v1/webhooks/${id}/deliveries${query}`, { apiKey: app.adminKey });
  expect(res.status, res.text).toBe(200);
  return res.body.deliveries as any[];
}

describe('webhook endpoints', () => {
  it('signs each event per Standard Webhooks; the receiver verifies it with the standardwebhooks library', async () => {
    const r = await receiver();
    const created = await createEndpoint(t, r, { description: 'CRM sync' });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(created).toMatchObject({ url: r.url, eventTypes: ['user.created'], enabled: true, circuit: { state: 'closed' } });

    const user = await t.createUser({});
    // Not subscribed: a user update is not delivered.
    await t.app.services.users.update(t.context(), user.id, { firstName: 'Changed' }).catch(() => undefined);
    await r.until((x) => x.received.length >= 1);
    const [got] = r.received;
    expect(got?.status).toBe(204);
    expect(got?.payload).toMatchObject({
      type: 'user.created',
      data: { organizationId: t.defaultOrgId, target: { type: 'user', id: user.id }, outcome: 'success' },
    });
    expect(got?.payload?.data.id).toBe(got?.id);
    expect(got?.id).toMatch(/^evt_\d+$/);
    expect(Date.parse(got?.payload?.timestamp ?? '')).not.toBeNaN();
    expect(got?.headers['content-type']).toBe('application/json');
    expect(got?.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/=]+$/);

    // The delivery log shows it, with the body sent.
    await expect.poll(async () => (await deliveries(t, created.id))[0]?.status).toBe('succeeded');
    const [d] = await deliveries(t, created.id);
    expect(d).toMatchObject({ eventId: got?.id, eventType: 'user.created', attempts: 1, lastResponseStatus: 204, nextAttemptAt: null });
    expect(d.payload).toEqual(got?.payload);

    // The secret is never read back.
    const one = await t.req('GET', `/v1/webhooks/${created.id}`, { apiKey: t.adminKey });
    expect(one.status).toBe(200);
    expect(one.text).not.toContain(created.secret);
    expect(one.body).not.toHaveProperty('secret');
    const list = await t.req('GET', '/v1/webhooks', { apiKey: t.adminKey });
    expect(list.body.webhooks.map((w: { id: string }) => w.id)).toContain(created.id);
    expect(list.text).not.toContain('whsec_');
  });

  it('documents every route in /openapi.json with an operationId', async () => {
    const doc = (await t.req('GET', '/openapi.json')).body;
    const ops = [
      ['/v1/webhooks', 'post', 'createWebhook'],
      ['/v1/webhooks', 'get', 'listWebhooks'],
      ['/v1/webhooks/{id}', 'get', 'getWebhook'],
      ['/v1/webhooks/{id}', 'patch', 'updateWebhook'],
      ['/v1/webhooks/{id}', 'delete', 'deleteWebhook'],
      ['/v1/webhooks/{id}/rotate-secret', 'post', 'rotateWebhookSecret'],
      ['/v1/webhooks/{id}/deliveries', 'get', 'listWebhookDeliveries'],
      ['/v1/webhooks/{id}/deliveries/{deliveryId}/replay', 'post', 'replayWebhookDelivery'],
    ] as const;
    for (const [path, method, operationId] of ops) {
      expect(doc.paths[path]?.[method], `${method} ${path}`).toMatchObject({
        operationId,
        tags: ['webhooks'],
        summary: expect.any(String),
      });
    }
  });

  it('validates event types and bodies with 400s', async () => {
    const r = await receiver();
    const unknownType = await t.req('POST', '/v1/webhooks', { apiKey: t.adminKey, json: { url: r.url, eventTypes: ['user.exploded'] } });
    expect(unknownType.status).toBe(400);
    expect(unknownType.body).toMatchObject({ error: 'request.invalid', details: ['body.eventTypes.0'] });
    const none = await t.req('POST', '/v1/webhooks', { apiKey: t.adminKey, json: { url: r.url, eventTypes: [] } });
    expect(none.status).toBe(400);
    const extra = await t.req('POST', '/v1/webhooks', { apiKey: t.adminKey, json: { url: r.url, eventTypes: ['*'], secret: 'mine' } });
    expect(extra.status).toBe(400);
    const proto = await t.req('POST', '/v1/webhooks', {
      apiKey: t.adminKey,
      body: `{"url":"${r.url}","eventTypes":["*"],"__proto__":{"enabled":false}}`,
      headers: { 'content-type': 'application/json' },
    });
    expect(proto.status).toBe(400);
    const page = await t.req('GET', '/v1/webhooks?pageToken=%%%', { apiKey: t.adminKey });
    expect(page.status).toBe(400);
  });

  it('delivers each event exactly once to a receiver that fails, then recovers (retries with back-off)', async () => {
    const r = await receiver();
    let failures = 0;
    r.behaviour = () => (failures++ < 6 ? 503 : 200);
    const endpoint = await createEndpoint(t, r);
    const users = [await t.createUser({}), await t.createUser({}), await t.createUser({})];
    await r.until((x) => x.accepted().size === 3);
    // Nothing more arrives once each event was accepted.
    await new Promise((done) => setTimeout(done, 400));
    expect([...r.accepted().values()]).toEqual([1, 1, 1]);
    const log = await deliveries(t, endpoint.id);
    expect(log).toHaveLength(3);
    expect(log.every((d) => d.status === 'succeeded' && d.lastResponseStatus === 200 && d.lastError === null)).toBe(true);
    expect(log.reduce((n, d) => n + d.attempts, 0)).toBe(6 + 3);
    expect(new Set(log.map((d) => d.payload.data.target.id))).toEqual(new Set(users.map((u) => u.id)));
    // The failed attempts carried the same webhook-id as the accepted one.
    const ids = new Set(r.received.map((x) => x.id));
    expect(ids.size).toBe(3);
  });

  it('replays a delivery with the same webhook-id', async () => {
    const r = await receiver();
    const endpoint = await createEndpoint(t, r);
    await t.createUser({});
    await r.until((x) => x.accepted().size === 1);
    await expect.poll(async () => (await deliveries(t, endpoint.id))[0]?.status).toBe('succeeded');
    const [original] = await deliveries(t, endpoint.id);
    const replay = await t.req('POST', `/v1/webhooks/${endpoint.id}/deliveries/${original.id}/replay`, { apiKey: t.adminKey });
    expect(replay.status, replay.text).toBe(202);
    expect(replay.body).toMatchObject({ replayOf: original.id, eventId: original.eventId, status: 'pending' });
    await r.until((x) => x.received.length === 2);
    expect(r.received[1]?.id).toBe(original.eventId);
    expect(r.received[1]?.body).toBe(r.received[0]?.body);
    const unknown = await t.req('POST', `/v1/webhooks/${endpoint.id}/deliveries/nope/replay`, { apiKey: t.adminKey });
    expect(unknown.status).toBe(404);
  });

  it('rotates the secret: during the grace period a receiver still verifying with the old secret accepts', async () => {
    const r = await receiver();
    const endpoint = await createEndpoint(t, r);
    const oldSecret = endpoint.secret;
    const rotated = await t.req('POST', `/v1/webhooks/${endpoint.id}/rotate-secret`, { apiKey: t.adminKey, json: { graceSeconds: 3600 } });
    expect(rotated.status, rotated.text).toBe(200);
    const newSecret: string = rotated.body.secret;
    secrets.push(newSecret);
    expect(newSecret).not.toBe(oldSecret);
    expect(Date.parse(rotated.body.previousSecretExpiresAt)).toBeGreaterThan(Date.now() + 3500_000);

    // The receiver knows only the old secret: it still verifies (two signatures are sent).
    r.secrets.splice(0, r.secrets.length, oldSecret);
    await t.createUser({});
    await r.until((x) => x.received.length === 1);
    expect(r.received[0]?.status).toBe(204);
    expect(r.received[0]?.headers['webhook-signature']?.split(' ')).toHaveLength(2);

    // A receiver that switched to the new secret verifies too.
    r.secrets.splice(0, r.secrets.length, newSecret);
    await t.createUser({});
    await r.until((x) => x.received.length === 2);
    expect(r.received[1]?.status).toBe(204);

    // Without a grace period the old secret stops at once.
    const now = await t.req('POST', `/v1/webhooks/${endpoint.id}/rotate-secret`, { apiKey: t.adminKey, json: { graceSeconds: 0 } });
    expect(now.status).toBe(200);
    secrets.push(now.body.secret);
    expect(now.body.previousSecretExpiresAt).toBeNull();
    r.secrets.splice(0, r.secrets.length, newSecret);
    r.behaviour = () => 204;
    await t.createUser({});
    await r.until((x) => x.received.length >= 3);
    expect(r.received[2]?.status).toBe(401);
    expect(r.received[2]?.headers['webhook-signature']?.split(' ')).toHaveLength(1);
    // The receiver learns the current secret: the retry is accepted.
    r.secrets.push(now.body.secret);
    await r.until((x) => x.accepted().size === 3);

    // No body at all takes the configured grace.
    const byDefault = await t.req('POST', `/v1/webhooks/${endpoint.id}/rotate-secret`, { apiKey: t.adminKey });
    expect(byDefault.status, byDefault.text).toBe(200);
    secrets.push(byDefault.body.secret);
    expect(byDefault.body.previousSecretExpiresAt).toBeTypeOf('string');
  });

  it('opens the circuit breaker after consecutive failures, pauses, then closes after a successful trial', async () => {
    const b = await buildTestApp({ ...FAST, PORTCULLIS_WEBHOOKS_BREAKER_THRESHOLD: '3', PORTCULLIS_WEBHOOKS_BREAKER_COOLDOWN_MS: '3000' });
    try {
      const r = await receiver();
      let healthy = false;
      r.behaviour = () => (healthy ? 200 : 500);
      const endpoint = await createEndpoint(b, r);
      await b.createUser({});
      await b.createUser({});
      await r.until((x) => x.received.length >= 3);
      // Attempts already in flight when the third failure opened the breaker still finish (two events here).
      await new Promise((done) => setTimeout(done, 200));
      const seen = r.received.length;
      expect(seen).toBeGreaterThanOrEqual(3);
      expect(seen).toBeLessThanOrEqual(4);
      const paused = await b.req('GET', `/v1/webhooks/${endpoint.id}`, { apiKey: b.adminKey });
      expect(paused.body.circuit).toMatchObject({ state: 'open', consecutiveFailures: seen });
      // Paused: nothing is attempted during the cool-down.
      await new Promise((done) => setTimeout(done, 600));
      expect(r.received.length).toBe(seen);

      // Half-open after the cool-down: one trial; it fails, the breaker opens again.
      await r.until((x) => x.received.length === seen + 1, 10_000);
      await new Promise((done) => setTimeout(done, 300));
      expect(r.received.length).toBe(seen + 1);
      const again = await b.req('GET', `/v1/webhooks/${endpoint.id}`, { apiKey: b.adminKey });
      expect(again.body.circuit).toMatchObject({ state: 'open', consecutiveFailures: seen + 1 });

      // The receiver recovers: the next trial succeeds, the breaker closes and everything is delivered.
      healthy = true;
      await r.until((x) => x.accepted().size === 2, 15_000);
      const closed = await b.req('GET', `/v1/webhooks/${endpoint.id}`, { apiKey: b.adminKey });
      expect(closed.body.circuit).toEqual({ state: 'closed', consecutiveFailures: 0, openUntil: null });
    } finally {
      await b.close();
    }
  });

  it('writes a delivery in the transaction of its event: an event that rolls back is never sent', async () => {
    const r = await receiver();
    const endpoint = await createEndpoint(t, r, { eventTypes: ['organization.updated'] });
    const { storage, audit } = t.app.services;
    const record = (marker: string) =>
      audit.record(t.context(), { action: 'organization.updated', organizationId: t.defaultOrgId, data: { changedFields: [marker] } });
    await expect(
      storage.transaction(async () => {
        await record('rolled-back');
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    await storage.transaction(() => record('committed'));
    await r.until((x) => x.accepted().size === 1);
    await new Promise((done) => setTimeout(done, 300));
    expect(r.received.map((x) => x.payload?.data.details.changedFields)).toEqual([['committed']]);
    expect(await deliveries(t, endpoint.id)).toHaveLength(1);
  });

  it('keeps the secret sealed under the master key at rest, bound to its endpoint', async () => {
    const r = await receiver();
    const endpoint = await createEndpoint(t, r);
    await t.req('POST', `/v1/webhooks/${endpoint.id}/rotate-secret`, { apiKey: t.adminKey, json: { graceSeconds: 60 } }).then((x) => {
      secrets.push(x.body.secret);
      return x;
    });
    const row = await t.app.services.storage.db
      .selectFrom('webhookEndpoints')
      .selectAll()
      .where('id', '=', endpoint.id)
      .executeTakeFirstOrThrow();
    const raw = JSON.stringify(row);
    expect(raw).not.toContain(endpoint.secret);
    expect(raw).not.toContain(endpoint.secret.slice('whsec_'.length));
    expect(row.secretSealed).toMatch(/^v1\./);
    expect(row.previousSecretSealed).toMatch(/^v1\./);
    const keyring = t.app.services.keyring;
    expect(keyring.unwrap(row.previousSecretSealed as string, endpointSecretAad(endpoint.id)).toString()).toBe(endpoint.secret);
    // Bound to its row: under another endpoint's label it does not open.
    expect(() => keyring.unwrap(row.secretSealed, endpointSecretAad('another-endpoint'))).toThrow();
  });

  it('disabling stops new events; deleting drops the endpoint and its log', async () => {
    const r = await receiver();
    const endpoint = await createEndpoint(t, r);
    const off = await t.req('PATCH', `/v1/webhooks/${endpoint.id}`, {
      apiKey: t.adminKey,
      json: { enabled: false, description: 'paused' },
    });
    expect(off.status, off.text).toBe(200);
    expect(off.body).toMatchObject({ enabled: false, description: 'paused' });
    await t.createUser({});
    await new Promise((done) => setTimeout(done, 300));
    expect(r.received).toHaveLength(0);
    const on = await t.req('PATCH', `/v1/webhooks/${endpoint.id}`, { apiKey: t.adminKey, json: { enabled: true, eventTypes: ['*'] } });
    expect(on.body).toMatchObject({ enabled: true, eventTypes: ['*'] });
    await t.createUser({});
    await r.until((x) => x.accepted().size >= 1);
    const del = await t.req('DELETE', `/v1/webhooks/${endpoint.id}`, { apiKey: t.adminKey });
    expect(del.status).toBe(200);
    expect((await t.req('GET', `/v1/webhooks/${endpoint.id}`, { apiKey: t.adminKey })).status).toBe(404);
    expect((await t.req('GET', `/v1/webhooks/${endpoint.id}/deliveries`, { apiKey: t.adminKey })).status).toBe(404);
  });

  it('audits endpoint changes without secrets, logs no secret, and counts deliveries in /metrics', async () => {
    const r = await receiver();
    let calls = 0;
    r.behaviour = () => (calls++ === 0 ? 500 : 204);
    const endpoint = await createEndpoint(t, r);
    await t.req('PATCH', `/v1/webhooks/${endpoint.id}`, { apiKey: t.adminKey, json: { description: 'audited' } });
    const rotated = await t.req('POST', `/v1/webhooks/${endpoint.id}/rotate-secret`, { apiKey: t.adminKey, json: {} });
    secrets.push(rotated.body.secret);
    r.secrets.push(rotated.body.secret);
    await t.createUser({});
    await r.until((x) => x.accepted().size === 1);
    await expect.poll(async () => (await deliveries(t, endpoint.id))[0]?.status).toBe('succeeded');
    const [d] = await deliveries(t, endpoint.id);
    expect((await t.req('POST', `/v1/webhooks/${endpoint.id}/deliveries/${d.id}/replay`, { apiKey: t.adminKey })).status).toBe(202);
    expect((await t.req('DELETE', `/v1/webhooks/${endpoint.id}`, { apiKey: t.adminKey })).status).toBe(200);

    const events = (await t.app.services.audit.list({ organizationId: t.defaultOrgId, limit: 1000 })).filter(
      (e) => e.targetId === endpoint.id,
    );
    expect(events.map((e) => e.action).sort()).toEqual([
      'webhook.created',
      'webhook.deleted',
      'webhook.delivery_replayed',
      'webhook.secret_rotated',
      'webhook.updated',
    ]);
    const created = events.find((e) => e.action === 'webhook.created');
    expect(created?.data).toMatchObject({ host: expect.stringMatching(/^127\.0\.0\.1:\d+$/), eventTypes: expect.any(Array) });
    const all = JSON.stringify(events) + t.logs();
    expect(secrets.length).toBeGreaterThanOrEqual(2); // this test's endpoint secret and its rotated one, at least
    for (const s of secrets) {
      expect(all.includes(s), 'a webhook secret in the audit log or the logs').toBe(false);
      expect(all.includes(s.slice('whsec_'.length)), 'a webhook secret in the audit log or the logs').toBe(false);
    }
    const metrics = await t.req('GET', '/metrics', { headers: { authorization: `Bearer ${FAST.PORTCULLIS_METRICS_TOKEN}` } });
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/portcullis_webhook_deliveries_total\{outcome="succeeded"\} [1-9]/);
    expect(metrics.text).toMatch(/portcullis_webhook_deliveries_total\{outcome="failed"\} [1-9]/);
    expect(metrics.text).toMatch(/portcullis_webhook_outbox_depth \d+/);
  });
});

describe('the outbound guard', () => {
  let strict: TestApp;
  beforeAll(async () => {
    strict = await buildTestApp({ PORTCULLIS_WEBHOOKS_POLL_MS: '50', PORTCULLIS_WEBHOOKS_RETRY_BASE_MS: '50' });
  });
  afterAll(async () => {
    await strict?.close();
  });

  it('refuses http, loopback, private, link-local and local names unless private hosts are allowed', async () => {
    for (const url of [
      'http://hooks.example.com/x',
      'https://127.0.0.1/x',
      'https://10.1.2.3/x',
      'https://192.168.0.10/x',
      'https://169.254.169.254/latest',
      'https://[::1]/x',
      'https://[::ffff:127.0.0.1]/x',
      'https://localhost/x',
      'https://printer.local/x',
      'https://user:pw@hooks.example.com/x',
      'ftp://hooks.example.com/x',
    ]) {
      const res = await strict.req('POST', '/v1/webhooks', { apiKey: strict.adminKey, json: { url, eventTypes: ['*'] } });
      expect(res.status, url).toBe(400);
      expect(res.body, url).toMatchObject({ error: 'request.invalid', details: ['body.url'] });
    }
    const ok = await strict.req('POST', '/v1/webhooks', {
      apiKey: strict.adminKey,
      json: { url: 'https://hooks.example.com/x', eventTypes: ['*'] },
    });
    expect(ok.status, ok.text).toBe(201);
    secrets.push(ok.body.secret);
    const repoint = await strict.req('PATCH', `/v1/webhooks/${ok.body.id}`, {
      apiKey: strict.adminKey,
      json: { url: 'https://127.0.0.1/' },
    });
    expect(repoint.status).toBe(400);
    await strict.req('DELETE', `/v1/webhooks/${ok.body.id}`, { apiKey: strict.adminKey });
  });

  it('refuses, at delivery, a host name that resolves to a private address', async () => {
    const name = hostname();
    const resolved = await lookup(name, { all: true }).catch(() => []);
    if (resolved.length === 0 || resolved.every((a) => isPublicAddress(a.address))) return; // no private name here
    const res = await strict.req('POST', '/v1/webhooks', {
      apiKey: strict.adminKey,
      json: { url: `https://${name}:9/hook`, eventTypes: ['user.created'] },
    });
    expect(res.status, res.text).toBe(201);
    secrets.push(res.body.secret);
    await strict.createUser({});
    await expect.poll(async () => (await deliveries(strict, res.body.id))[0]?.lastError, { timeout: 10_000 }).toBe('blocked_address');
  });
});

describe('who may manage webhooks', () => {
  it('refuses members, keys without the scope, and answers 404 across organizations on every route', async () => {
    const r = await receiver();
    const endpoint = await createEndpoint(t, r);
    await t.createUser({});
    await r.until((x) => x.accepted().size >= 1);
    await expect.poll(async () => (await deliveries(t, endpoint.id)).length).toBeGreaterThan(0);
    const [delivery] = await deliveries(t, endpoint.id);

    const member = await t.createUser({ roles: ['member'] });
    const memberKey = (await t.createApiKey(member.id)).secret;
    const readOnly = (await t.createApiKey(t.adminId, ['webhooks:read'])).secret;
    const writeOnly = (await t.createApiKey(t.adminId, ['webhooks:write'])).secret;
    const noScope = (await t.createApiKey(t.adminId, ['users:read'])).secret;
    const otherOrg = await t.createOrg();
    const otherOwner = await t.createUser({ organizationId: otherOrg, roles: ['owner'] });
    const otherKey = (await t.createApiKey(otherOwner.id)).secret;

    const routes: { method: string; path: string; json?: unknown; write: boolean; byId: boolean }[] = [
      { method: 'POST', path: '/v1/webhooks', json: { url: r.url, eventTypes: ['*'] }, write: true, byId: false },
      { method: 'GET', path: '/v1/webhooks', write: false, byId: false },
      { method: 'GET', path: `/v1/webhooks/${endpoint.id}`, write: false, byId: true },
      { method: 'PATCH', path: `/v1/webhooks/${endpoint.id}`, json: { description: 'x' }, write: true, byId: true },
      { method: 'POST', path: `/v1/webhooks/${endpoint.id}/rotate-secret`, json: {}, write: true, byId: true },
      { method: 'GET', path: `/v1/webhooks/${endpoint.id}/deliveries`, write: false, byId: true },
      { method: 'POST', path: `/v1/webhooks/${endpoint.id}/deliveries/${delivery.id}/replay`, write: true, byId: true },
      { method: 'DELETE', path: `/v1/webhooks/${endpoint.id}`, write: true, byId: true },
    ];
    for (const route of routes) {
      const as = (apiKey: string) => t.req(route.method, route.path, { apiKey, ...(route.json ? { json: route.json } : {}) });
      const label = `${route.method} ${route.path}`;
      expect((await as(memberKey)).status, `member: ${label}`).toBe(403);
      expect((await as(noScope)).status, `no scope: ${label}`).toBe(403);
      expect((await as(route.write ? readOnly : writeOnly)).status, `wrong scope: ${label}`).toBe(403);
      expect((await t.req(route.method, route.path, route.json ? { json: route.json } : {})).status, `anonymous: ${label}`).toBe(401);
      if (route.byId) {
        const res = await as(otherKey);
        expect(res.status, `other organization: ${label}`).toBe(404);
        expect(res.body.error).toBe('resource.not_found');
      }
    }
    // The other organization sees none of this one's endpoints.
    const theirs = await t.req('GET', '/v1/webhooks', { apiKey: otherKey });
    expect(theirs.status).toBe(200);
    expect(theirs.body.webhooks).toEqual([]);
    // A delivery id of this endpoint under another endpoint is not found either.
    const mine = await createEndpoint(t, await receiver(), {}, t.adminKey);
    const crossed = await t.req('POST', `/v1/webhooks/${mine.id}/deliveries/${delivery.id}/replay`, { apiKey: t.adminKey });
    expect(crossed.status).toBe(404);
    // Admins may; the endpoint still exists after all the refusals.
    expect((await t.req('GET', `/v1/webhooks/${endpoint.id}`, { apiKey: readOnly })).status).toBe(200);
    const admin = await t.createUser({ roles: ['admin'] });
    const adminKey = (await t.createApiKey(admin.id)).secret;
    expect((await t.req('GET', `/v1/webhooks/${endpoint.id}`, { apiKey: adminKey })).status).toBe(200);
  });
});

describe.skipIf(!PG_URL)('two instances on one PostgreSQL and Redis', () => {
  it('deliver each event exactly once between them', async () => {
    const a = await buildTestApp(FAST);
    const b = await buildTestApp(FAST, {}, { peer: a });
    try {
      const r = await receiver();
      // Slow answers widen the window in which both instances look at the same rows.
      r.behaviour = (_x, n) => (n % 7 === 3 ? 500 : 200);
      await createEndpoint(a, r, { eventTypes: ['user.created'] });
      const made: string[] = [];
      await Promise.all(
        Array.from({ length: 2 }, async (_, w) => {
          for (let i = 0; i < 15; i++) made.push((await (w === 0 ? a : b).createUser({ userName: unique(`two-${w}-`) })).id);
        }),
      );
      await r.until((x) => x.accepted().size === made.length, 30_000);
      await new Promise((done) => setTimeout(done, 500));
      const accepted = r.accepted();
      expect(accepted.size).toBe(30);
      expect([...accepted.values()].every((n) => n === 1)).toBe(true);
      // No event was sent twice at the same time either: every request beyond one per event was a refused attempt.
      const targets = new Set(r.received.filter((x) => x.status === 200).map((x) => x.payload?.data.target.id));
      expect(targets).toEqual(new Set(made));
      // Both instances delivered.
      const sa = a.app.services.webhookDispatcher.counts().succeeded;
      const sb = b.app.services.webhookDispatcher.counts().succeeded;
      expect(sa + sb).toBe(30);
    } finally {
      await b.close();
      await a.close();
    }
  });
});
