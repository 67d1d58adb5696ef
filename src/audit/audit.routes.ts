import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ctx, decodeCursor, encodeCursor, errors, Nullable, PageQuery } from '../http/index.js';
import type { AuditService } from './audit.service.js';

/** What the audit routes use. */
export interface AuditRoutesDeps {
  audit: AuditService;
}

const AuditEventSchema = Type.Object({
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
});

export const auditRoutes: FastifyPluginAsyncTypebox<{ services: AuditRoutesDeps }> = async (app, { services }) => {
  app.get(
    '/v1/audit-events',
    {
      config: { scopes: ['audit:read'] },
      schema: {
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
      const cursor = decodeCursor(pageToken);
      const events = await services.audit.query(ctx(req), {
        ...(actor ? { actorId: actor } : {}),
        ...(action ? { action } : {}),
        ...(since ? { since: new Date(since).toISOString() } : {}),
        ...(until ? { until: new Date(until).toISOString() } : {}),
        ...(cursor ? { beforeId: Number(cursor[0]) } : {}),
        limit: pageSize + 1,
      });
      const page = events.slice(0, pageSize);
      const last = page[page.length - 1];
      return { events: page, nextPageToken: events.length > pageSize && last ? encodeCursor([last.id]) : '' };
    },
  );
};
