import type { FastifyPluginAsync } from 'fastify';
import type { EventBus } from '../events/index.js';
import type { Storage } from '../storage/index.js';
import { usersNamedBy } from './actions.js';
import { createAuditRepo } from './audit.repo.js';
import { auditRoutes } from './audit.routes.js';
import { type AuditSink, createAuditService } from './audit.service.js';

export * from './actions.js';
export type { AuditRoutesDeps } from './audit.routes.js';
export * from './audit.service.js';

/** The audit domain: the log every security-relevant change writes, and its query route. */
export function createAuditDomain(deps: {
  storage: Pick<Storage, 'executor' | 'transaction'>;
  events: EventBus;
  /** What else an event writes in its transaction (the webhook outbox). */
  sinks?: readonly AuditSink[];
}) {
  // Every audited change that names a user drops that user's cached account view, on every instance.
  const audit = createAuditService({
    repo: createAuditRepo(deps.storage.executor),
    sinks: deps.sinks ?? [],
    transaction: (fn) => deps.storage.transaction(fn),
    onEvent: (event) => {
      const ids = usersNamedBy(event);
      if (ids.length) void deps.events.broadcast('account.changed', ids);
    },
  });
  const routes: FastifyPluginAsync = async (app) => {
    await app.register(auditRoutes, { services: { audit } });
  };
  return { audit, routes };
}
