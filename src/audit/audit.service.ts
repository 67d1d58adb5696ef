import { authorize, inOrganization, type RequestContext } from '../auth/index.js';
import type { AuditAction } from './actions.js';
import type { AuditEvent, AuditRepo } from './audit.repo.js';
import { maskAuditData } from './mask.js';

export interface AuditRecord {
  /** One of the catalogue's actions (`audit/actions.ts`, `docs/audit.md`). */
  action: AuditAction;
  organizationId: string | null;
  outcome?: 'success' | 'failure';
  targetType?: string;
  targetId?: string | null;
  /** Internal details (masked before writing; never sent to the client that caused them). */
  data?: Record<string, unknown>;
  /** Overrides the actor derived from the context (e.g. the user who just signed in). */
  actor?: { type: string; id: string | null };
}

export interface AuditService {
  /** Writes one event; inside `storage.transaction` it commits or rolls back with the change it describes. */
  record(ctx: RequestContext | undefined, record: AuditRecord): Promise<void>;
  /** Every event, unchecked: for tests and operators' tools, never for routes. */
  list: AuditRepo['list'];
  /** An event about a user: its organization and the user as the target (`undefined`: an unknown account). */
  recordFor(
    ctx: RequestContext | undefined,
    user: { id: string; organizationId: string } | undefined,
    record: Omit<AuditRecord, 'organizationId' | 'targetType' | 'targetId'>,
  ): Promise<void>;
  /** The caller's organization's events, when the policy allows `audit.read`. */
  query(ctx: RequestContext, filter: Omit<Parameters<AuditRepo['list']>[0], 'organizationId'>): ReturnType<AuditRepo['list']>;
}

export type AuditListener = (event: Omit<AuditEvent, 'id'>) => void;

/**
 * Something that writes what an audit event causes in the event's own transaction (the webhook
 * outbox). `prepare` looks (cheaply) whether the event concerns it and answers the write to run with
 * the recorded event, or `undefined`; only then do the event and that write share a transaction.
 */
export interface AuditSink {
  prepare(event: Omit<AuditEvent, 'id'>): Promise<((event: AuditEvent) => Promise<void>) | undefined>;
}

export interface AuditServiceDeps {
  repo: AuditRepo;
  onEvent?: AuditListener;
  sinks?: readonly AuditSink[];
  /** `storage.transaction`: an event and its sinks' writes commit together (joining the caller's transaction, if any). */
  transaction?: <T>(fn: () => Promise<T>) => Promise<T>;
}

export function createAuditService(deps: AuditServiceDeps): AuditService {
  const { repo } = deps;
  const sinks = deps.sinks ?? [];
  const transaction = deps.transaction ?? (<T>(fn: () => Promise<T>) => fn());
  /** Writes the event, and what the sinks that want it write, in one transaction. */
  async function write(event: Omit<AuditEvent, 'id'>): Promise<void> {
    const writes: ((e: AuditEvent) => Promise<void>)[] = [];
    for (const sink of sinks) {
      const w = await sink.prepare(event);
      if (w) writes.push(w);
    }
    if (writes.length === 0) {
      await repo.insert(event);
      return;
    }
    await transaction(async () => {
      const id = await repo.insert(event);
      for (const w of writes) await w({ ...event, id });
    });
  }
  const record: AuditService['record'] = async (ctx, r) => {
    const principal = ctx?.principal;
    const actor =
      r.actor ??
      (principal
        ? principal.kind === 'api_key'
          ? { type: 'api_key', id: String(principal.apiKeyId) }
          : { type: 'user', id: principal.userId }
        : { type: 'anonymous', id: null });
    const event = {
      organizationId: r.organizationId,
      actorType: actor.type,
      actorId: actor.id,
      action: r.action,
      targetType: r.targetType ?? null,
      targetId: r.targetId ?? null,
      outcome: r.outcome ?? 'success',
      ip: ctx?.ip ?? null,
      requestId: ctx?.requestId ?? null,
      data: maskAuditData({
        ...(principal?.kind === 'api_key' ? { onBehalfOf: principal.userId } : {}),
        ...(r.data ?? {}),
      }) as Record<string, unknown>,
      createdAt: (ctx?.now ?? new Date()).toISOString(),
    };
    await write(event);
    deps.onEvent?.(event);
  };
  return {
    record,
    recordFor: (ctx, user, r) =>
      record(ctx, { ...r, organizationId: user?.organizationId ?? null, targetType: 'user', targetId: user?.id ?? null }),
    list: repo.list,
    query(ctx, filter) {
      const p = authorize(ctx.principal, 'audit.read', inOrganization(ctx.principal?.organizationId ?? ''));
      return repo.list({ ...filter, organizationId: p.organizationId });
    },
  };
}
