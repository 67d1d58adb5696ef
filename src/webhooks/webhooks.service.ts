import { randomBytes } from 'node:crypto';
import { type AuditService, isAuditAction } from '../audit/index.js';
import { authorize, inOrganization, type Principal, type RequestContext } from '../auth/index.js';
import { type MasterKeyring, newId } from '../crypto/index.js';
import { AppError, assertThat } from '../errors/index.js';
import { checkOutboundUrl } from '../federation/index.js';
import type { WebhookOutbox } from './webhooks.outbox.js';
import type { DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhooksRepo } from './webhooks.repo.js';
import { endpointSecretAad } from './webhooks.sealed.js';

/** An endpoint as the API shows it: never a secret. */
export interface WebhookView {
  id: string;
  name: string;
  url: string;
  description: string;
  eventTypes: string[];
  enabled: boolean;
  circuit: { state: 'closed' | 'open' | 'half_open'; consecutiveFailures: number; openUntil: string | null };
  previousSecretExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A delivery in an endpoint's log. */
export interface DeliveryView {
  id: string;
  webhookId: string;
  eventId: string;
  eventType: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: string | null;
  lastAttemptAt: string | null;
  lastResponseStatus: number | null;
  lastError: string | null;
  replayOf: string | null;
  createdAt: string;
  deliveredAt: string | null;
  payload: unknown;
}

export interface CreateWebhookInput {
  url: string;
  description?: string | undefined;
  eventTypes: string[];
  enabled?: boolean | undefined;
}
export type UpdateWebhookInput = Partial<CreateWebhookInput>;

export interface WebhooksServiceDeps {
  repo: WebhooksRepo;
  audit: AuditService;
  keyring: MasterKeyring;
  outbox: WebhookOutbox;
  transaction: <T>(fn: () => Promise<T>) => Promise<T>;
  /** Wakes the dispatchers of every instance (after the current transaction commits). */
  wake: () => Promise<void>;
  options: { allowPrivateHosts: boolean; secretGraceSeconds: number; breakerThreshold: number };
}

/** A new signing secret: `whsec_` and 32 random bytes in base64, as Standard Webhooks' libraries read it. */
export const newSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

export function createWebhooksService(deps: WebhooksServiceDeps) {
  const { repo, audit, keyring, outbox, options } = deps;

  function view(e: WebhookEndpoint, at: Date): WebhookView {
    const open = e.circuitOpenUntil !== null && e.circuitOpenUntil > at.toISOString();
    const tripped = e.consecutiveFailures >= options.breakerThreshold;
    return {
      id: e.id,
      name: `webhooks/${e.id}`,
      url: e.url,
      description: e.description,
      eventTypes: e.eventTypes,
      enabled: e.enabled,
      circuit: {
        state: !tripped ? 'closed' : open ? 'open' : 'half_open',
        consecutiveFailures: e.consecutiveFailures,
        openUntil: tripped ? e.circuitOpenUntil : null,
      },
      previousSecretExpiresAt: e.previousSecretExpiresAt && e.previousSecretExpiresAt > at.toISOString() ? e.previousSecretExpiresAt : null,
      createdAt: e.createdAt,
      updatedAt: e.updatedAt,
    };
  }

  const deliveryView = (d: WebhookDelivery): DeliveryView => ({
    id: d.id,
    webhookId: d.endpointId,
    eventId: d.eventId,
    eventType: d.eventType,
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: d.status === 'pending' ? d.nextAttemptAt : null,
    lastAttemptAt: d.lastAttemptAt,
    lastResponseStatus: d.lastResponseStatus,
    lastError: d.lastError,
    replayOf: d.replayOf,
    createdAt: d.createdAt,
    deliveredAt: d.deliveredAt,
    payload: JSON.parse(d.payload) as unknown,
  });

  function checkUrl(url: string): void {
    try {
      checkOutboundUrl(url, options.allowPrivateHosts);
    } catch (err) {
      throw new AppError('request.invalid', { details: ['body.url'], detail: (err as Error).message });
    }
  }

  function checkEventTypes(types: readonly string[]): string[] {
    types.forEach((t, i) => {
      if (t !== '*' && !isAuditAction(t))
        throw new AppError('request.invalid', { details: [`body.eventTypes.${i}`], detail: `unknown event type ${t}` });
    });
    return [...new Set(types)].sort();
  }

  /** An endpoint the caller may act on: same organization (or a superadmin), else not found. */
  async function endpointFor(ctx: RequestContext, id: string, action: 'webhook.read' | 'webhook.write'): Promise<WebhookEndpoint> {
    assertThat(ctx.principal, 'auth.unauthenticated');
    const endpoint = await repo.findEndpoint(id);
    // Why: the policy's cross-organization refusal is a 404 too, so the caller learns nothing from the id.
    if (!endpoint) throw new AppError('resource.not_found', { detail: 'no such webhook' });
    authorize(ctx.principal, action, inOrganization(endpoint.organizationId));
    return endpoint;
  }

  const seal = (endpointId: string, secret: string): string => keyring.wrap(secret, endpointSecretAad(endpointId));

  const caller = (ctx: RequestContext, action: 'webhook.read' | 'webhook.write'): Principal =>
    authorize(ctx.principal, action, inOrganization(ctx.principal?.organizationId ?? ''));

  return {
    /** Creates an endpoint; its secret is answered here once and never again. */
    async create(ctx: RequestContext, input: CreateWebhookInput): Promise<WebhookView & { secret: string }> {
      const p = caller(ctx, 'webhook.write');
      checkUrl(input.url);
      const eventTypes = checkEventTypes(input.eventTypes);
      const id = newId();
      const secret = newSecret();
      const at = ctx.now.toISOString();
      const endpoint: WebhookEndpoint = {
        id,
        organizationId: p.organizationId,
        url: input.url,
        description: input.description?.trim() ?? '',
        eventTypes,
        enabled: input.enabled ?? true,
        secretSealed: seal(id, secret),
        previousSecretSealed: null,
        previousSecretExpiresAt: null,
        consecutiveFailures: 0,
        circuitOpenUntil: null,
        createdAt: at,
        updatedAt: at,
      };
      await deps.transaction(async () => {
        await repo.insertEndpoint(endpoint);
        await audit.record(ctx, {
          action: 'webhook.created',
          organizationId: endpoint.organizationId,
          targetType: 'webhook',
          targetId: id,
          // The host only: a receiver URL may carry a token in its path or query.
          data: { host: new URL(endpoint.url).host, eventTypes, enabled: endpoint.enabled },
        });
        await outbox.endpointsChanged(endpoint.organizationId);
      });
      return { ...view(endpoint, ctx.now), secret };
    },

    async list(ctx: RequestContext, after: { createdAt: string; id: string } | undefined, limit: number): Promise<WebhookView[]> {
      const p = caller(ctx, 'webhook.read');
      return (await repo.listEndpoints(p.organizationId, after, limit)).map((e) => view(e, ctx.now));
    },

    async get(ctx: RequestContext, id: string): Promise<WebhookView> {
      return view(await endpointFor(ctx, id, 'webhook.read'), ctx.now);
    },

    async update(ctx: RequestContext, id: string, input: UpdateWebhookInput): Promise<WebhookView> {
      const before = await endpointFor(ctx, id, 'webhook.write');
      if (input.url !== undefined) checkUrl(input.url);
      const eventTypes = input.eventTypes === undefined ? undefined : checkEventTypes(input.eventTypes);
      const changed = (['url', 'description', 'eventTypes', 'enabled'] as const).filter((k) => input[k] !== undefined);
      const fields = {
        ...(input.url === undefined ? {} : { url: input.url }),
        ...(input.description === undefined ? {} : { description: input.description.trim() }),
        ...(eventTypes ? { eventTypes } : {}),
        ...(input.enabled === undefined ? {} : { enabled: input.enabled }),
        updatedAt: ctx.now.toISOString(),
      };
      await deps.transaction(async () => {
        await repo.updateEndpoint(id, fields);
        await audit.record(ctx, {
          action: 'webhook.updated',
          organizationId: before.organizationId,
          targetType: 'webhook',
          targetId: id,
          data: { changedFields: changed },
        });
        await outbox.endpointsChanged(before.organizationId);
        // Re-enabled or re-pointed: what waits for it may go now.
        if (input.enabled || input.url) await deps.wake();
      });
      return view((await repo.findEndpoint(id)) as WebhookEndpoint, ctx.now);
    },

    async remove(ctx: RequestContext, id: string): Promise<void> {
      const endpoint = await endpointFor(ctx, id, 'webhook.write');
      await deps.transaction(async () => {
        await repo.deleteEndpoint(id);
        await audit.record(ctx, {
          action: 'webhook.deleted',
          organizationId: endpoint.organizationId,
          targetType: 'webhook',
          targetId: id,
        });
        await outbox.endpointsChanged(endpoint.organizationId);
      });
    },

    /**
     * Replaces the signing secret (answered once). The old secret keeps signing beside the new one
     * for `graceSeconds` (default `PORTCULLIS_WEBHOOKS_SECRET_GRACE`), so receivers can switch over
     * without losing a message; 0 drops it at once.
     */
    async rotateSecret(
      ctx: RequestContext,
      id: string,
      input: { graceSeconds?: number | undefined },
    ): Promise<WebhookView & { secret: string }> {
      const before = await endpointFor(ctx, id, 'webhook.write');
      const grace = input.graceSeconds ?? options.secretGraceSeconds;
      const secret = newSecret();
      const previousExpiresAt = grace > 0 ? new Date(ctx.now.getTime() + grace * 1000).toISOString() : null;
      await deps.transaction(async () => {
        // The sealed value moves as it is: both columns share the endpoint's seal label.
        await repo.rotateSecret(id, {
          sealed: seal(id, secret),
          previousSealed: previousExpiresAt ? before.secretSealed : null,
          previousExpiresAt,
          at: ctx.now.toISOString(),
        });
        await audit.record(ctx, {
          action: 'webhook.secret_rotated',
          organizationId: before.organizationId,
          targetType: 'webhook',
          targetId: id,
          data: { graceSeconds: grace },
        });
      });
      return { ...view((await repo.findEndpoint(id)) as WebhookEndpoint, ctx.now), secret };
    },

    async listDeliveries(
      ctx: RequestContext,
      id: string,
      filter: { status?: DeliveryStatus | undefined },
      before: { createdAt: string; id: string } | undefined,
      limit: number,
    ): Promise<DeliveryView[]> {
      await endpointFor(ctx, id, 'webhook.read');
      return (await repo.listDeliveries(id, filter, before, limit)).map(deliveryView);
    },

    /**
     * Queues an event again for the endpoint, as a new delivery with the same `webhook-id` (a
     * receiver that already processed it recognises it) and a fresh retry window.
     */
    async replay(ctx: RequestContext, id: string, deliveryId: string): Promise<DeliveryView> {
      const endpoint = await endpointFor(ctx, id, 'webhook.write');
      const original = await repo.findDelivery(deliveryId);
      if (!original || original.endpointId !== endpoint.id) throw new AppError('resource.not_found', { detail: 'no such delivery' });
      const at = ctx.now.toISOString();
      const replay = {
        id: newId(),
        endpointId: endpoint.id,
        organizationId: endpoint.organizationId,
        eventId: original.eventId,
        eventType: original.eventType,
        payload: original.payload,
        nextAttemptAt: at,
        createdAt: at,
        replayOf: original.id,
      };
      await deps.transaction(async () => {
        await repo.insertDelivery(replay);
        await audit.record(ctx, {
          action: 'webhook.delivery_replayed',
          organizationId: endpoint.organizationId,
          targetType: 'webhook',
          targetId: endpoint.id,
          data: { deliveryId: original.id, replayId: replay.id, eventId: original.eventId },
        });
        await deps.wake();
      });
      return deliveryView((await repo.findDelivery(replay.id)) as WebhookDelivery);
    },
  };
}
export type WebhooksService = ReturnType<typeof createWebhooksService>;
