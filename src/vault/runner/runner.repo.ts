import type { Selectable, Updateable } from 'kysely';
import type { Executor, VaultRunsTable } from '../../storage/index.js';

export type RunRow = Selectable<VaultRunsTable>;
export const IN_FLIGHT = ['QUEUED', 'RUNNING', 'AWAITING_CODE'] as const;
export type RunStatus = (typeof IN_FLIGHT)[number] | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

export function createRunsRepo(db: Executor) {
  return {
    async insert(row: RunRow): Promise<void> {
      await db.insertInto('vaultRuns').values(row).execute();
    },
    async findById(organizationId: string, id: string): Promise<RunRow | undefined> {
      return db.selectFrom('vaultRuns').selectAll().where('organizationId', '=', organizationId).where('id', '=', id).executeTakeFirst();
    },
    /** Applies `patch` unless the run already ended: true when it wrote. */
    async updateInFlight(id: string, patch: Updateable<VaultRunsTable>): Promise<boolean> {
      const res = await db
        .updateTable('vaultRuns')
        .set(patch)
        .where('id', '=', id)
        .where('status', 'in', [...IN_FLIGHT])
        .executeTakeFirst();
      return Number(res.numUpdatedRows) > 0;
    },
    /** The organization's runs waiting for a code, optionally of one login (the newest first). */
    async awaitingCode(organizationId: string, loginId?: string): Promise<RunRow[]> {
      let q = db.selectFrom('vaultRuns').selectAll().where('organizationId', '=', organizationId).where('status', '=', 'AWAITING_CODE');
      if (loginId) q = q.where('loginId', '=', loginId);
      return q.orderBy('createdAt', 'desc').limit(10).execute();
    },
    /**
     * Ends the in-flight runs an instance left behind (it stopped or crashed): those of other
     * instances, and with `createdBefore` only those older than it.
     */
    async failAbandoned(instanceId: string, reason: string, at: string, createdBefore?: string): Promise<number> {
      let q = db
        .updateTable('vaultRuns')
        .set({ status: 'FAILED', reason, finishedAt: at })
        .where('status', 'in', [...IN_FLIGHT])
        .where('instanceId', '!=', instanceId);
      if (createdBefore) q = q.where('createdAt', '<', createdBefore);
      const res = await q.executeTakeFirst();
      return Number(res.numUpdatedRows);
    },
    /** Drops the screenshots past their expiry. */
    async dropExpiredScreenshots(now: string): Promise<void> {
      await db
        .updateTable('vaultRuns')
        .set({ screenshotSealed: null, screenshotExpiresAt: null })
        .where('screenshotExpiresAt', '<=', now)
        .execute();
    },
  };
}
export type RunsRepo = ReturnType<typeof createRunsRepo>;
