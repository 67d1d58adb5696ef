import type { Executor } from '../storage/index.js';

export interface AuditEvent {
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

export type NewAuditEvent = Omit<AuditEvent, 'id'>;

export interface AuditQuery {
  organizationId: string;
  actorId?: string;
  action?: string;
  since?: string;
  until?: string;
  /** Return events with id below this (newest first). */
  beforeId?: number;
  limit: number;
}

export function createAuditRepo(db: Executor) {
  return {
    /** Writes one event; answers its id. */
    async insert(event: NewAuditEvent): Promise<number> {
      const row = await db
        .insertInto('auditEvents')
        .values({ ...event, data: JSON.stringify(event.data) })
        .returning('id')
        .executeTakeFirstOrThrow();
      return Number(row.id);
    },
    async list(q: AuditQuery): Promise<AuditEvent[]> {
      let query = db.selectFrom('auditEvents').selectAll().where('organizationId', '=', q.organizationId);
      if (q.actorId) query = query.where('actorId', '=', q.actorId);
      if (q.action) query = query.where('action', '=', q.action);
      if (q.since) query = query.where('createdAt', '>=', q.since);
      if (q.until) query = query.where('createdAt', '<', q.until);
      if (q.beforeId !== undefined) query = query.where('id', '<', q.beforeId);
      const rows = await query.orderBy('id', 'desc').limit(q.limit).execute();
      return rows.map((r) => ({ ...r, data: JSON.parse(r.data) as Record<string, unknown> }));
    },
  };
}
export type AuditRepo = ReturnType<typeof createAuditRepo>;
