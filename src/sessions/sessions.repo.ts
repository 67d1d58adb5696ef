import type { Selectable } from 'kysely';
import type { Executor, SessionsTable } from '../storage/index.js';

export type Session = Selectable<SessionsTable>;

export function createSessionsRepo(db: Executor) {
  return {
    async findById(id: string): Promise<Session | undefined> {
      return db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
    },
    async insert(session: Session, refreshTokenHash: string): Promise<void> {
      await db.transaction().execute(async (tx) => {
        await tx.insertInto('sessions').values(session).execute();
        await tx
          .insertInto('refreshTokens')
          .values({ tokenHash: refreshTokenHash, sessionId: session.id, createdAt: session.createdAt, rotatedAt: null })
          .execute();
      });
    },
    async findRefreshToken(tokenHash: string) {
      return db.selectFrom('refreshTokens').selectAll().where('tokenHash', '=', tokenHash).executeTakeFirst();
    },
    /**
     * Marks `oldHash` rotated and stores `newHash`, atomically. Answers false when the old token
     * was already rotated (a concurrent or replayed use): the caller treats that as reuse.
     */
    async rotate(oldHash: string, newHash: string, sessionId: string, at: string): Promise<boolean> {
      return db.transaction().execute(async (tx) => {
        const res = await tx
          .updateTable('refreshTokens')
          .set({ rotatedAt: at })
          .where('tokenHash', '=', oldHash)
          .where('rotatedAt', 'is', null)
          .executeTakeFirst();
        if (Number(res.numUpdatedRows) !== 1) return false;
        await tx.insertInto('refreshTokens').values({ tokenHash: newHash, sessionId, createdAt: at, rotatedAt: null }).execute();
        await tx.updateTable('sessions').set({ lastSeenAt: at }).where('id', '=', sessionId).execute();
        return true;
      });
    },
    /** A user's live sessions (not revoked, not expired), most recently used first. */
    async listLiveForUser(userId: string, now: string): Promise<Session[]> {
      return db
        .selectFrom('sessions')
        .selectAll()
        .where('userId', '=', userId)
        .where('revokedAt', 'is', null)
        .where('expiresAt', '>', now)
        .orderBy('lastSeenAt', 'desc')
        .limit(200)
        .execute();
    },
    async revoke(id: string, at: string, reason: string): Promise<boolean> {
      const res = await db
        .updateTable('sessions')
        .set({ revokedAt: at, revokedReason: reason })
        .where('id', '=', id)
        .where('revokedAt', 'is', null)
        .executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    },
    /** Revokes every live session of a user (except `keep`); returns their ids. */
    async revokeAllForUser(userId: string, at: string, reason: string, keep?: string): Promise<string[]> {
      let q = db
        .updateTable('sessions')
        .set({ revokedAt: at, revokedReason: reason })
        .where('userId', '=', userId)
        .where('revokedAt', 'is', null);
      if (keep) q = q.where('id', '!=', keep);
      const rows = await q.returning('id').execute();
      return rows.map((r) => r.id);
    },
  };
}
export type SessionsRepo = ReturnType<typeof createSessionsRepo>;
