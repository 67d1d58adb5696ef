import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ctx, errors, keysetPage, Nullable, PageQuery } from '../http/index.js';
import type { AuditService } from './audit.service.js';

/** What the audit routes use. */
export interface AuditRoutesDeps {
  audit: AuditService;
}

const AuditEventSchema = Type.Object(
  {
    id: Type.Integer(),
    organizationId: Nullable(Type.String()),
    actorType: Type.String(),
    actorId: Nullable(Type.String()),
    action: Type.String(),
    targetType: Nullable(Type.String()),
    targetId: Nullable(Type.String()),
    outcome: Type.String(),
    ip: Nullable(Type.String()),
    requestId: Nullable(Type.String()),
    data: Type.Record(Type.String(), Type.Unknown()),
    createdAt: Type.String(),
  },
  { title: 'AuditEvent' },
);

export const auditRoutes: FastifyPluginAsyncTypebox<{ services: AuditRoutesDeps }> = async (app, { services }) => {
  app.get(
    '/v1/audit-events',
    {
      config: { scopes: ['audit:read'] },
      schema: {
        operationId: 'listAuditEvents',
        description: 'Needs `audit:read`. Filter by `actor`, `action`, `since`, `until`; keyset-paged. Secrets never appear in records.',
        tags: ['audit'],
        summary: 'Query the audit log (newest first)',
        querystring: Type.Object({
          actor: Type.Optional(Type.String({ maxLength: 128 })),
          action: Type.Optional(Type.String({ maxLength: 128 })),
          since: Type.Optional(Type.String({ format: 'date-time' })),
          until: Type.Optional(Type.String({ format: 'date-time' })),
          ...PageQuery,
        }),
        response: { 200: Type.Object({ events: Type.Array(AuditEventSchema), nextPageToken: Type.String() }), ...errors(400, 401, 403) },
      },
    },
    async (req) => {
      const { pageSize = 50, pageToken, actor, action, since, until } = req.query;
      // Newest first: the cursor is the last event's id, and the next page is what lies below it.
      const newestFirst = { cursorOf: (e: { id: number }) => [e.id], decode: (parts: (string | number)[]) => Number(parts[0]) };
      const { rows, nextPageToken } = await keysetPage({ pageSize, pageToken }, newestFirst, (beforeId, limit) =>
        services.audit.query(ctx(req), {
          ...(actor ? { actorId: actor } : {}),
          ...(action ? { action } : {}),
          ...(since ? { since: new Date(since).toISOString() } : {}),
          ...(until ? { until: new Date(until).toISOString() } : {}),
          ...(beforeId !== undefined ? { beforeId } : {}),
          limit,
        }),
      );
      return { events: rows, nextPageToken };
    },
  );
};
