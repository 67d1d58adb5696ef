import { LRUCache } from 'lru-cache';
import type { AuditSink } from '../audit/index.js';
import type { EventBus } from '../events/index.js';
import type { WebhooksRepo } from './webhooks.repo.js';

/** A recorded audit event, as the outbox sees it. */
interface RecordedEvent {
  id: number;
  organizationId: string | null;
  actorType: string;
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  outcome: string;
  ip: string | null;
  requestId: string | null;
  data: Record<string, unknown>;
  createdAt: string;
}

/** The `webhook-id` of an event: the same for every endpoint, attempt and replay (receivers deduplicate by it). */
export const eventIdOf = (auditEventId: number): string => `evt_${auditEventId}`;

/**
 * The body of a delivery, per Standard Webhooks: `{type, timestamp, data}`. `data` is the audit event
 * as `GET /v1/audit-events` shows it (its `details` already masked: field names and reasons, never secrets).
 */
export function payloadOf(event: RecordedEvent): string {
  return JSON.stringify({
    type: event.action,
    timestamp: event.createdAt,
    data: {
      id: eventIdOf(event.id),
      organizationId: event.organizationId,
      actor: { type: event.actorType, id: event.actorId },
      target: event.targetType ? { type: event.targetType, id: event.targetId } : null,
      outcome: event.outcome,
      ip: event.ip,
      requestId: event.requestId,
      details: event.data,
    },
  });
}

const ROUTING_TTL_MS = 30_000;

type Routing = { id: string; all: boolean; types: ReadonlySet<string> }[];

/**
 * The outbox's audit sink: an event of an organization with enabled endpoints subscribed to its
 * action gets one delivery row per endpoint, written in the event's own transaction (so an event
 * that rolls back is never delivered, and one that commits always is). Which endpoints want what is
 * cached per organization (dropped on every instance when endpoints change, and after 30 s); the
 * dispatchers are woken once the transaction has committed.
 */
export function createWebhookOutbox(deps: { repo: WebhooksRepo; events: EventBus; now?: () => Date }) {
  const { repo, events } = deps;
  const routing = new LRUCache<string, Routing>({ max: 10_000, ttl: ROUTING_TTL_MS });
  events.onBroadcast('webhooks.endpoints_changed', (organizationId) => {
    if (typeof organizationId === 'string') routing.delete(organizationId);
  });

  async function routesOf(organizationId: string): Promise<Routing> {
    const cached = routing.get(organizationId);
    if (cached) return cached;
    const subs = await repo.subscriptions(organizationId);
    const loaded = subs.map((s) => ({ id: s.id, all: s.eventTypes.includes('*'), types: new Set(s.eventTypes) }));
    routing.set(organizationId, loaded);
    return loaded;
  }

  const auditSink: AuditSink = {
    async prepare(event) {
      const organizationId = event.organizationId;
      if (!organizationId) return undefined;
      const endpoints = (await routesOf(organizationId)).filter((e) => e.all || e.types.has(event.action));
      if (endpoints.length === 0) return undefined;
      return async (recorded) => {
        const at = (deps.now?.() ?? new Date()).toISOString();
        await repo.enqueue(
          endpoints.map((e) => e.id),
          {
            organizationId,
            eventId: eventIdOf(recorded.id),
            eventType: recorded.action,
            payload: payloadOf(recorded),
            nextAttemptAt: at,
            createdAt: at,
          },
        );
        // Held until the transaction commits: a dispatcher woken earlier would not see the rows.
        await events.broadcast('webhooks.pending', true);
      };
    },
  };

  return {
    auditSink,
    /** Drops this organization's cached routing on every instance (after the change commits). */
    endpointsChanged: (organizationId: string) => events.broadcast('webhooks.endpoints_changed', organizationId),
  };
}
export type WebhookOutbox = ReturnType<typeof createWebhookOutbox>;
