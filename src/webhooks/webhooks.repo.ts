import { type Selectable, sql } from 'kysely';
import type { Executor, WebhookDeliveriesTable, WebhookEndpointsTable } from '../storage/index.js';

/** A webhook endpoint as stored. Its secrets stay sealed here; only the service and the dispatcher open them. */
export interface WebhookEndpoint {
  id: string;
  organizationId: string;
  url: string;
  description: string;
  /** Audit actions delivered to this endpoint; `*` is every action. */
  eventTypes: string[];
  enabled: boolean;
  secretSealed: string;
  previousSecretSealed: string | null;
  previousSecretExpiresAt: string | null;
  consecutiveFailures: number;
  circuitOpenUntil: string | null;
  createdAt: string;
  updatedAt: string;
}

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

export type WebhookDelivery = Omit<Selectable<WebhookDeliveriesTable>, 'status'> & { status: DeliveryStatus };

/** A new outbox row. */
export type NewDelivery = Pick<
  WebhookDelivery,
  'id' | 'endpointId' | 'organizationId' | 'eventId' | 'eventType' | 'payload' | 'nextAttemptAt' | 'createdAt' | 'replayOf'
>;

const toEndpoint = (r: Selectable<WebhookEndpointsTable>): WebhookEndpoint => ({
  ...r,
  eventTypes: JSON.parse(r.eventTypes) as string[],
  enabled: r.enabled === 1,
  consecutiveFailures: Number(r.consecutiveFailures),
});

const toDelivery = (r: Selectable<WebhookDeliveriesTable>): WebhookDelivery => ({
  ...r,
  status: r.status as DeliveryStatus,
  attempts: Number(r.attempts),
  lastResponseStatus: r.lastResponseStatus === null ? null : Number(r.lastResponseStatus),
});

/** What the dispatcher writes after an attempt. */
export interface AttemptResult {
  at: string;
  responseStatus: number | null;
  error: string | null;
}

/** Access to one column of sealed secrets, for `keys rotate-master` (see `webhooks.sealed.ts`). */
export const sealedSecretRows = (db: Executor, column: 'secretSealed' | 'previousSecretSealed') => ({
  async page(afterId: string | undefined, limit: number): Promise<{ key: string; sealed: string }[]> {
    let q = db.selectFrom('webhookEndpoints').select(['id', column]).where(column, 'is not', null);
    if (afterId !== undefined) q = q.where('id', '>', afterId);
    const rows = await q.orderBy('id').limit(limit).execute();
    return rows.map((r) => ({ key: r.id, sealed: r[column] as string }));
  },
  async read(id: string): Promise<string | undefined> {
    const row = await db.selectFrom('webhookEndpoints').select(column).where('id', '=', id).executeTakeFirst();
    return row?.[column] ?? undefined;
  },
  /** Compare-and-set: a secret rotated meanwhile is never overwritten. */
  async swap(id: string, previous: string, next: string): Promise<boolean> {
    const res = await db
      .updateTable('webhookEndpoints')
      .set({ [column]: next })
      .where('id', '=', id)
      .where(column, '=', previous)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  },
});

export function createWebhooksRepo(db: Executor, dialect: 'sqlite' | 'postgres') {
  return {
    async findEndpoint(id: string): Promise<WebhookEndpoint | undefined> {
      const row = await db.selectFrom('webhookEndpoints').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toEndpoint(row);
    },
    async findEndpoints(ids: readonly string[]): Promise<WebhookEndpoint[]> {
      if (ids.length === 0) return [];
      const rows = await db
        .selectFrom('webhookEndpoints')
        .selectAll()
        .where('id', 'in', [...ids])
        .execute();
      return rows.map(toEndpoint);
    },
    /** An organization's endpoints by creation, after a keyset position. */
    async listEndpoints(
      organizationId: string,
      after: { createdAt: string; id: string } | undefined,
      limit: number,
    ): Promise<WebhookEndpoint[]> {
      let q = db.selectFrom('webhookEndpoints').selectAll().where('organizationId', '=', organizationId);
      if (after) {
        q = q.where((eb) =>
          eb.or([eb('createdAt', '>', after.createdAt), eb.and([eb('createdAt', '=', after.createdAt), eb('id', '>', after.id)])]),
        );
      }
      const rows = await q.orderBy('createdAt').orderBy('id').limit(limit).execute();
      return rows.map(toEndpoint);
    },
    /** The enabled endpoints of an organization with what they subscribe to (the outbox's routing). */
    async subscriptions(organizationId: string): Promise<{ id: string; eventTypes: string[] }[]> {
      const rows = await db
        .selectFrom('webhookEndpoints')
        .select(['id', 'eventTypes'])
        .where('organizationId', '=', organizationId)
        .where('enabled', '=', 1)
        .execute();
      return rows.map((r) => ({ id: r.id, eventTypes: JSON.parse(r.eventTypes) as string[] }));
    },
    async insertEndpoint(e: WebhookEndpoint): Promise<void> {
      await db
        .insertInto('webhookEndpoints')
        .values({ ...e, eventTypes: JSON.stringify(e.eventTypes), enabled: e.enabled ? 1 : 0 })
        .execute();
    },
    async updateEndpoint(
      id: string,
      fields: Partial<Pick<WebhookEndpoint, 'url' | 'description' | 'eventTypes' | 'enabled'>> & { updatedAt: string },
    ): Promise<void> {
      const { eventTypes, enabled, ...rest } = fields;
      await db
        .updateTable('webhookEndpoints')
        .set({
          ...rest,
          ...(eventTypes ? { eventTypes: JSON.stringify(eventTypes) } : {}),
          ...(enabled === undefined ? {} : { enabled: enabled ? 1 : 0 }),
          // Why: an administrator who re-enables or re-points an endpoint wants it tried now, not after a cool-down.
          ...(enabled || rest.url ? { consecutiveFailures: 0, circuitOpenUntil: null } : {}),
        })
        .where('id', '=', id)
        .execute();
    },
    /** Replaces the secret; the old one keeps signing until `previousExpiresAt` (null: not at all). */
    async rotateSecret(id: string, next: { sealed: string; previousSealed: string | null; previousExpiresAt: string | null; at: string }) {
      await db
        .updateTable('webhookEndpoints')
        .set({
          secretSealed: next.sealed,
          previousSecretSealed: next.previousSealed,
          previousSecretExpiresAt: next.previousExpiresAt,
          updatedAt: next.at,
        })
        .where('id', '=', id)
        .execute();
    },
    async deleteEndpoint(id: string): Promise<void> {
      await db.deleteFrom('webhookDeliveries').where('endpointId', '=', id).execute();
      await db.deleteFrom('webhookEndpoints').where('id', '=', id).execute();
    },

    /** Queues a replay (or any single row) for one endpoint. */
    async insertDelivery(row: NewDelivery): Promise<void> {
      await db
        .insertInto('webhookDeliveries')
        .values({ ...row, status: 'pending', attempts: 0 })
        .execute();
    },
    /**
     * Queues one event for those of `endpointIds` that still exist and are enabled, as one
     * INSERT … SELECT: an endpoint deleted meanwhile (another instance's routing cache may still
     * name it) is skipped instead of failing the transaction of the event.
     */
    async enqueue(
      endpointIds: readonly string[],
      event: Pick<NewDelivery, 'organizationId' | 'eventId' | 'eventType' | 'payload' | 'nextAttemptAt' | 'createdAt'>,
    ): Promise<void> {
      if (endpointIds.length === 0) return;
      // Delivery ids: the event's id and the endpoint's, unique per pair (replays get fresh ids).
      const prefix = `${event.eventId}.`;
      await db
        .insertInto('webhookDeliveries')
        .columns([
          'id',
          'endpointId',
          'organizationId',
          'eventId',
          'eventType',
          'payload',
          'status',
          'attempts',
          'nextAttemptAt',
          'createdAt',
        ])
        .expression((eb) =>
          eb
            .selectFrom('webhookEndpoints')
            .select([
              sql<string>`${prefix} || id`.as('id'),
              'id as endpointId',
              sql<string>`${event.organizationId}`.as('organizationId'),
              sql<string>`${event.eventId}`.as('eventId'),
              sql<string>`${event.eventType}`.as('eventType'),
              sql<string>`${event.payload}`.as('payload'),
              sql<string>`'pending'`.as('status'),
              sql<number>`0`.as('attempts'),
              sql<string>`${event.nextAttemptAt}`.as('nextAttemptAt'),
              sql<string>`${event.createdAt}`.as('createdAt'),
            ])
            .where('id', 'in', [...endpointIds])
            .where('organizationId', '=', event.organizationId)
            .where('enabled', '=', 1),
        )
        .execute();
    },
    async findDelivery(id: string): Promise<WebhookDelivery | undefined> {
      const row = await db.selectFrom('webhookDeliveries').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toDelivery(row);
    },
    /** An endpoint's delivery log, newest first, before a keyset position. */
    async listDeliveries(
      endpointId: string,
      filter: { status?: DeliveryStatus | undefined },
      before: { createdAt: string; id: string } | undefined,
      limit: number,
    ): Promise<WebhookDelivery[]> {
      let q = db.selectFrom('webhookDeliveries').selectAll().where('endpointId', '=', endpointId);
      if (filter.status) q = q.where('status', '=', filter.status);
      if (before) {
        q = q.where((eb) =>
          eb.or([eb('createdAt', '<', before.createdAt), eb.and([eb('createdAt', '=', before.createdAt), eb('id', '<', before.id)])]),
        );
      }
      const rows = await q.orderBy('createdAt', 'desc').orderBy('id', 'desc').limit(limit).execute();
      return rows.map(toDelivery);
    },

    /**
     * Claims up to `limit` due deliveries for `owner` until `leaseUntil`: pending, due, not leased
     * (or the lease has passed: its instance died), of an enabled endpoint whose breaker is not open.
     * Exactly one caller gets each row — PostgreSQL skips the rows another instance is claiming
     * (`FOR UPDATE SKIP LOCKED`); SQLite runs the whole statement under its single writer lock.
     */
    async claim(owner: string, now: string, leaseUntil: string, limit: number): Promise<WebhookDelivery[]> {
      const due = sql`
        select d2.id from webhook_deliveries d2
        join webhook_endpoints e on e.id = d2.endpoint_id
        where d2.status = 'pending' and d2.next_attempt_at <= ${now}
          and (d2.lease_until is null or d2.lease_until < ${now})
          and e.enabled = 1 and (e.circuit_open_until is null or e.circuit_open_until <= ${now})
        order by d2.next_attempt_at
        limit ${limit}`;
      const query =
        dialect === 'postgres'
          ? sql<Selectable<WebhookDeliveriesTable>>`
              update webhook_deliveries d set lease_until = ${leaseUntil}, lease_owner = ${owner}
              from (${due} for update of d2 skip locked) due
              where d.id = due.id
              returning d.*`
          : sql<Selectable<WebhookDeliveriesTable>>`
              update webhook_deliveries set lease_until = ${leaseUntil}, lease_owner = ${owner}
              where id in (${due})
              returning *`;
      const { rows } = await query.execute(db);
      return rows.map(toDelivery);
    },
    /** Gives a claimed row back untouched (the endpoint's half-open trial went to another delivery). */
    async release(id: string, owner: string): Promise<void> {
      await db
        .updateTable('webhookDeliveries')
        .set({ leaseUntil: null, leaseOwner: null })
        .where('id', '=', id)
        .where('leaseOwner', '=', owner)
        .execute();
    },
    /** Records an attempt that the receiver accepted (2xx). False when the lease was lost meanwhile. */
    async succeeded(id: string, owner: string, r: AttemptResult): Promise<boolean> {
      const res = await db
        .updateTable('webhookDeliveries')
        .set((eb) => ({
          status: 'succeeded',
          attempts: eb('attempts', '+', 1),
          lastAttemptAt: r.at,
          lastResponseStatus: r.responseStatus,
          lastError: null,
          deliveredAt: r.at,
          leaseUntil: null,
          leaseOwner: null,
        }))
        .where('id', '=', id)
        .where('leaseOwner', '=', owner)
        .executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    },
    /** Records a failed attempt: retried at `nextAttemptAt`, or given up (`failed`) when it is null. */
    async failed(id: string, owner: string, r: AttemptResult, nextAttemptAt: string | null, countAttempt = true): Promise<boolean> {
      const res = await db
        .updateTable('webhookDeliveries')
        .set((eb) => ({
          status: nextAttemptAt ? 'pending' : 'failed',
          attempts: countAttempt ? eb('attempts', '+', 1) : eb.ref('attempts'),
          ...(nextAttemptAt ? { nextAttemptAt } : {}),
          lastAttemptAt: r.at,
          lastResponseStatus: r.responseStatus,
          lastError: r.error,
          leaseUntil: null,
          leaseOwner: null,
        }))
        .where('id', '=', id)
        .where('leaseOwner', '=', owner)
        .executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    },

    /** Takes the one trial delivery of a half-open endpoint: true for exactly one caller per cool-down. */
    async takeTrial(endpointId: string, threshold: number, now: string, trialUntil: string): Promise<boolean> {
      const res = await db
        .updateTable('webhookEndpoints')
        .set({ circuitOpenUntil: trialUntil })
        .where('id', '=', endpointId)
        .where('consecutiveFailures', '>=', threshold)
        .where((eb) => eb.or([eb('circuitOpenUntil', 'is', null), eb('circuitOpenUntil', '<=', now)]))
        .executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    },
    /** A success closes the breaker. */
    async closeBreaker(endpointId: string): Promise<void> {
      await db
        .updateTable('webhookEndpoints')
        .set({ consecutiveFailures: 0, circuitOpenUntil: null })
        .where('id', '=', endpointId)
        .where((eb) => eb.or([eb('consecutiveFailures', '!=', 0), eb('circuitOpenUntil', 'is not', null)]))
        .execute();
    },
    /** A failure counts; at `threshold` failures in a row the breaker opens until `openUntil`. Answers the new count. */
    async countFailure(endpointId: string, threshold: number, openUntil: string): Promise<number> {
      await db
        .updateTable('webhookEndpoints')
        .set((eb) => ({
          consecutiveFailures: eb('consecutiveFailures', '+', 1),
          circuitOpenUntil: eb
            .case()
            .when(eb('consecutiveFailures', '+', 1), '>=', threshold)
            .then(openUntil)
            .else(eb.ref('circuitOpenUntil'))
            .end(),
        }))
        .where('id', '=', endpointId)
        .execute();
      const row = await db.selectFrom('webhookEndpoints').select('consecutiveFailures').where('id', '=', endpointId).executeTakeFirst();
      return Number(row?.consecutiveFailures ?? 0);
    },

    /** Deliveries waiting to be sent (the outbox depth), for `/metrics`. */
    async outboxDepth(): Promise<number> {
      const row = await db
        .selectFrom('webhookDeliveries')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('status', '=', 'pending')
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },
  };
}
export type WebhooksRepo = ReturnType<typeof createWebhooksRepo>;
