import type { Selectable } from 'kysely';
import type { EmailTokensTable, Executor } from '../../storage/index.js';

/** `email_change`: a code mailed to a requested new address; its `email` becomes the user's when it comes back. */
export type EmailTokenPurpose = 'email_verify' | 'email_change' | 'password_reset';
export type EmailToken = Selectable<EmailTokensTable>;

/** Single-use tokens sent by mail, stored as SHA-256 hashes. */
export function createEmailTokensRepo(db: Executor) {
  return {
    async insert(token: EmailToken): Promise<void> {
      await db.insertInto('emailTokens').values(token).execute();
    },
    /** The token with this hash, if it was issued for one of `purposes`. */
    async findByHash(tokenHash: string, purposes: readonly EmailTokenPurpose[]): Promise<EmailToken | undefined> {
      return db
        .selectFrom('emailTokens')
        .selectAll()
        .where('tokenHash', '=', tokenHash)
        .where('purpose', 'in', [...purposes])
        .executeTakeFirst();
    },
    /** Uses a token up: true for exactly one caller, and only before it expires. */
    async consume(tokenHash: string, at: string): Promise<boolean> {
      const res = await db
        .updateTable('emailTokens')
        .set({ usedAt: at })
        .where('tokenHash', '=', tokenHash)
        .where('usedAt', 'is', null)
        .where('expiresAt', '>', at)
        .executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    },
    /** Kills every unused token of a purpose for a user (a newer one replaces them, or the job is done). */
    async invalidateForUser(userId: string, purpose: EmailTokenPurpose, at: string): Promise<void> {
      await db
        .updateTable('emailTokens')
        .set({ usedAt: at })
        .where('userId', '=', userId)
        .where('purpose', '=', purpose)
        .where('usedAt', 'is', null)
        .execute();
    },
    async purgeExpired(before: string): Promise<void> {
      await db.deleteFrom('emailTokens').where('expiresAt', '<', before).execute();
    },
  };
}
export type EmailTokensRepo = ReturnType<typeof createEmailTokensRepo>;
