import type { Selectable } from 'kysely';
import type { Executor, PasskeysTable } from '../../storage/index.js';

export type PasskeyRow = Selectable<PasskeysTable>;

/** SQL of the passkeys table. */
export function createPasskeysRepo(db: Executor) {
  return {
    async insert(row: PasskeyRow): Promise<void> {
      await db.insertInto('passkeys').values(row).execute();
    },
    async listForUser(userId: string): Promise<PasskeyRow[]> {
      return db.selectFrom('passkeys').selectAll().where('userId', '=', userId).orderBy('createdAt').orderBy('id').execute();
    },
    async findForUser(userId: string, id: string): Promise<PasskeyRow | undefined> {
      return db.selectFrom('passkeys').selectAll().where('userId', '=', userId).where('id', '=', id).executeTakeFirst();
    },
    async findByCredentialId(credentialId: string): Promise<PasskeyRow | undefined> {
      return db.selectFrom('passkeys').selectAll().where('credentialId', '=', credentialId).executeTakeFirst();
    },
    async rename(id: string, name: string): Promise<void> {
      await db.updateTable('passkeys').set({ name }).where('id', '=', id).execute();
    },
    async remove(id: string): Promise<void> {
      await db.deleteFrom('passkeys').where('id', '=', id).execute();
    },
    /**
     * Records a use. Why conditional: of two assertions racing with the same counter, only one
     * moves it (the other looks like a replay and is refused).
     */
    async recordUse(id: string, expectedCount: number, newCount: number, at: string): Promise<boolean> {
      const res = await db
        .updateTable('passkeys')
        .set({ signCount: newCount, lastUsedAt: at })
        .where('id', '=', id)
        .where('signCount', '=', expectedCount)
        .where('cloneSuspectedAt', 'is', null)
        .executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    },
    async removeAllForUser(userId: string): Promise<number> {
      const res = await db.deleteFrom('passkeys').where('userId', '=', userId).executeTakeFirst();
      return Number(res.numDeletedRows);
    },
    async markCloned(id: string, at: string): Promise<void> {
      await db.updateTable('passkeys').set({ cloneSuspectedAt: at }).where('id', '=', id).execute();
    },
  };
}
export type PasskeysRepo = ReturnType<typeof createPasskeysRepo>;
