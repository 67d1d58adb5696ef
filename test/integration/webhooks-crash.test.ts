import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ADMIN } from '../helpers/test-app.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import { type ChildServer, json, startChildServer } from '../robust/helpers.js';

/**
 * @see issue 20 — the outbox survives a crash: `kill -9` the server while a delivery is in flight
 * (the receiver holds the request), restart it on the same data, and the event is delivered — once
 * the dead instance's lease has passed — and accepted exactly once.
 */
describe('webhook delivery across kill -9', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-webhooks-crash-'));
  const servers: ChildServer[] = [];
  let receiver: WebhookReceiver | undefined;
  afterAll(async () => {
    for (const s of servers) await s.kill('SIGKILL');
    await receiver?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers after the restart what was in flight when the server died', async () => {
    const env = {
      PORTCULLIS_DATA_DIR: dir,
      PORTCULLIS_WEBHOOKS_ALLOW_PRIVATE_HOSTS: 'true',
      PORTCULLIS_WEBHOOKS_POLL_MS: '100',
      PORTCULLIS_WEBHOOKS_TIMEOUT_MS: '1000',
      PORTCULLIS_WEBHOOKS_RETRY_BASE_MS: '100',
    };
    receiver = await startWebhookReceiver();
    const r = receiver;
    let first = true;
    r.behaviour = () => {
      if (!first) return 200;
      first = false;
      return 'hold';
    };
    const a = await startChildServer(env);
    servers.push(a);
    const login = await json(`${a.url}/v1/auth/login`, 'POST', { username: ADMIN.userName, password: ADMIN.password });
    expect(login.status, login.text).toBe(200);
    const bearer = { authorization: `Bearer ${login.body.token}` };
    const endpoint = await json(`${a.url}/v1/webhooks`, 'POST', { url: r.url, eventTypes: ['user.created'] }, bearer);
    expect(endpoint.status, endpoint.text).toBe(201);
    r.secrets.push(endpoint.body.secret);
    const user = await json(`${a.url}/v1/users`, 'POST', { userName: 'crash-hook', password: 'crash-hook-pw-k2!x' }, bearer);
    expect(user.status, user.text).toBe(201);

    // The delivery is in flight (held by the receiver): the server dies.
    await r.until((x) => x.received.length === 1);
    const eventId = r.received[0]?.id;
    await a.kill('SIGKILL');

    const b = await startChildServer(env);
    servers.push(b);
    await r.until((x) => x.accepted().size === 1, 30_000);
    expect(r.received.map((x) => x.id)).toEqual([eventId, eventId]);
    expect(r.accepted().get(eventId as string)).toBe(1);
    expect(r.received[1]?.payload).toMatchObject({ type: 'user.created', data: { target: { id: user.body.id } } });

    const relogin = await json(`${b.url}/v1/auth/login`, 'POST', { username: ADMIN.userName, password: ADMIN.password });
    const log = await json(`${b.url}/v1/webhooks/${endpoint.body.id}/deliveries`, 'GET', undefined, {
      authorization: `Bearer ${relogin.body.token}`,
    });
    expect(log.status, log.text).toBe(200);
    expect(log.body.deliveries).toHaveLength(1);
    expect(log.body.deliveries[0]).toMatchObject({ eventId, status: 'succeeded', lastResponseStatus: 200 });
  }, 120_000);
});
