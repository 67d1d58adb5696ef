import type { FastifyPluginAsync } from 'fastify';
import type { AuditService } from '../audit/index.js';
import type { Config } from '../config/index.js';
import type { MasterKeyring } from '../crypto/index.js';
import type { EventBus } from '../events/index.js';
import { createGuardedFetch, type GuardedFetch } from '../federation/index.js';
import type { Logger } from '../log/index.js';
import type { Storage } from '../storage/index.js';
import { createWebhookDispatcher } from './webhooks.dispatcher.js';
import { createWebhookOutbox } from './webhooks.outbox.js';
import { createWebhooksRepo } from './webhooks.repo.js';
import { webhooksRoutes } from './webhooks.routes.js';
import { createWebhooksService } from './webhooks.service.js';

export type { DeliveryCounts, WebhookDispatcher } from './webhooks.dispatcher.js';
export { backoffMs, signatures } from './webhooks.dispatcher.js';
export { webhooksSealedColumns } from './webhooks.sealed.js';
export type { WebhooksService } from './webhooks.service.js';

/** Largest part of a receiver's answer that is read; the rest is not (only the status matters). */
const MAX_RESPONSE_BYTES = 64 * 1024;

export interface WebhooksDeps {
  storage: Pick<Storage, 'executor' | 'transaction' | 'dialect'>;
  config: Config;
  keyring: MasterKeyring;
  events: EventBus;
  log: Logger;
  /** Tests may pass their own; by default the SSRF-guarded fetch under the webhooks' policy. */
  fetch?: GuardedFetch;
}

/**
 * The webhooks domain, in two steps because the audit log both feeds it and records it: first the
 * outbox, whose audit sink the audit domain is built with (each event's deliveries are written in the
 * event's transaction); then, given the audit service, the endpoints' administration, the routes and
 * the dispatcher that sends the outbox (started when the server listens).
 */
export function createWebhooksDomain(deps: WebhooksDeps) {
  const { storage, config, events } = deps;
  const options = config.webhooks;
  const repo = createWebhooksRepo(storage.executor, storage.dialect);
  const outbox = createWebhookOutbox({ repo, events });
  const fetch =
    deps.fetch ??
    createGuardedFetch({
      allowPrivateHosts: options.allowPrivateHosts,
      timeoutMs: options.timeoutMs,
      maxResponseBytes: MAX_RESPONSE_BYTES,
      truncateResponse: true,
    });
  const dispatcher = createWebhookDispatcher({ repo, keyring: deps.keyring, fetch, options, log: deps.log });
  // Any instance's new deliveries (and replays) wake every dispatcher.
  events.onBroadcast('webhooks.pending', () => dispatcher.wake());

  return {
    /** Writes each audit event's deliveries in the event's transaction. */
    auditSink: outbox.auditSink,
    withAudit(audit: AuditService) {
      const webhooks = createWebhooksService({
        repo,
        audit,
        keyring: deps.keyring,
        outbox,
        transaction: (fn) => storage.transaction(fn),
        wake: () => events.broadcast('webhooks.pending', true),
        options: {
          allowPrivateHosts: options.allowPrivateHosts,
          secretGraceSeconds: options.secretGraceSeconds,
          breakerThreshold: options.breakerThreshold,
        },
      });
      const routes: FastifyPluginAsync = async (app) => {
        await app.register(webhooksRoutes, { services: { webhooks } });
      };
      return { webhooks, routes };
    },
    dispatcher,
    /** For `/metrics`: attempts by outcome and the outbox depth. */
    metrics: { counts: dispatcher.counts, outboxDepth: () => repo.outboxDepth() },
  };
}
