import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStorage, type Storage } from '../../src/storage/index.js';
import { createWebhooksRepo } from '../../src/webhooks/webhooks.repo.js';
import { buildTestApp, PG_URL, type TestApp } from '../helpers/test-app.js';

/**
 * @see issue 20 — one delivery per event between instances: concurrent claims through two
 * connection pools on one database (PostgreSQL's SKIP LOCKED; SQLite's single writer on a shared
 * file) never hand the same outbox row to two claimers.
 */
const dir = mkdtempSync(join(tmpdir(), 'portcullis-claims-'));
let t: TestApp;
let other: Storage;

beforeAll(async () => {
  const file = join(dir, 'claims.db');
  t = await buildTestApp({ PORTCULLIS_WEBHOOKS_ALLOW_PRIVATE_HOSTS: 'true' }, {}, { sqliteFile: file });
  // Only the claims below take rows.
  await t.app.services.webhookDispatcher.stop();
  other = createStorage({
    url: PG_URL ?? `sqlite:${file}`,
    dataDir: dir,
    ...(t.pgSchema ? { pgSchema: t.pgSchema, pgPoolSize: 4 } : {}),
  });
});
afterAll(async () => {
  await other?.close();
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe(`outbox claims (${PG_URL ? 'PostgreSQL' : 'SQLite'})`, () => {
  it('hand each due row to exactly one of many concurrent claimers, and a lapsed lease to a new one', async () => {
    const created = await t.req('POST', '/v1/webhooks', {
      apiKey: t.adminKey,
      json: { url: 'http://127.0.0.1:9/never', eventTypes: ['organization.updated'] },
    });
    expect(created.status, created.text).toBe(201);
    const { storage } = t.app.services;
    const mine = createWebhooksRepo(storage.db, storage.dialect);
    const theirs = createWebhooksRepo(other.db, other.dialect);
    const past = new Date(Date.now() - 1000).toISOString();
    for (let i = 0; i < 120; i++) {
      await mine.enqueue([created.body.id], {
        organizationId: t.defaultOrgId,
        eventId: `evt_claim_${i}`,
        eventType: 'organization.updated',
        payload: '{}',
        nextAttemptAt: past,
        createdAt: past,
      });
    }
    const now = new Date().toISOString();
    const lease = new Date(Date.now() + 60_000).toISOString();
    const claims = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? theirs : mine).claim(`owner-${i}`, now, lease, 16)));
    const ids = claims.flat().map((d) => d.eventId);
    expect(ids.length).toBeGreaterThan(0);
    expect(new Set(ids).size).toBe(ids.length);
    // Whatever was left is claimed by the next rounds, still once each.
    for (;;) {
      const more = await mine.claim('owner-late', now, lease, 16);
      if (more.length === 0) break;
      ids.push(...more.map((d) => d.eventId));
    }
    expect(new Set(ids).size).toBe(120);
    expect(ids).toHaveLength(120);
    // Leased rows are not claimed again until the lease has passed; then one claimer takes each over.
    expect(await theirs.claim('owner-x', now, lease, 200)).toEqual([]);
    const later = new Date(Date.now() + 120_000).toISOString();
    const longer = new Date(Date.now() + 180_000).toISOString();
    const retaken = await Promise.all([mine.claim('a', later, longer, 200), theirs.claim('b', later, longer, 200)]);
    expect(retaken.flat()).toHaveLength(120);
    // A claimer whose lease was taken over cannot record an outcome.
    const stale = claims.flat()[0];
    expect(await mine.succeeded(stale!.id, stale!.leaseOwner!, { at: now, responseStatus: 200, error: null })).toBe(false);
  });
});
