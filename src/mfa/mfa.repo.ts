import type { Selectable } from 'kysely';
import type { Executor, MfaChallengesTable, UserMfaTable } from '../storage/index.js';

export type UserMfa = Selectable<UserMfaTable>;
export type MfaChallenge = Selectable<MfaChallengesTable>;
export interface RecoveryCodeRow {
  id: number;
  codeHash: string;
}

const affected = (res: { numUpdatedRows?: bigint; numDeletedRows?: bigint }): number =>
  Number(res.numUpdatedRows ?? res.numDeletedRows ?? 0n);

/** Storage of TOTP factors, recovery codes and pending sign-in challenges. */
export function createMfaRepo(db: Executor) {
  return {
    async findByUserId(userId: string): Promise<UserMfa | undefined> {
      return db.selectFrom('userMfa').selectAll().where('userId', '=', userId).executeTakeFirst();
    },

    /** Stores (or replaces) an enrolment in progress; the active factor, if any, stays. */
    async upsertPending(userId: string, pending: { secretSealed: string; recoveryHashes: string[]; createdAt: string }): Promise<void> {
      const values = {
        pendingSecretSealed: pending.secretSealed,
        pendingRecoveryHashes: JSON.stringify(pending.recoveryHashes),
        pendingCreatedAt: pending.createdAt,
        updatedAt: pending.createdAt,
      };
      await db
        .insertInto('userMfa')
        .values({ userId, secretSealed: null, lastUsedStep: null, enabledAt: null, ...values })
        .onConflict((oc) => oc.column('userId').doUpdateSet(values))
        .execute();
    },

    /**
     * Promotes the pending enrolment that was read (`expectedPending`) to the active factor, with
     * `step` as the last accepted step. False when another request changed the pending one first.
     */
    async activatePending(userId: string, expectedPending: string, secretSealed: string, step: number, at: string): Promise<boolean> {
      const res = await db
        .updateTable('userMfa')
        .set({
          secretSealed,
          lastUsedStep: step,
          pendingSecretSealed: null,
          pendingRecoveryHashes: null,
          pendingCreatedAt: null,
          enabledAt: at,
          updatedAt: at,
        })
        .where('userId', '=', userId)
        .where('pendingSecretSealed', '=', expectedPending)
        .executeTakeFirst();
      return affected(res) === 1;
    },

    /**
     * Records `step` as the last accepted TOTP step, only if it is newer than the stored one.
     * One conditional UPDATE: of two concurrent submissions of one code exactly one gets a row.
     */
    async claimStep(userId: string, step: number): Promise<boolean> {
      const res = await db
        .updateTable('userMfa')
        .set({ lastUsedStep: step })
        .where('userId', '=', userId)
        .where('secretSealed', 'is not', null)
        .where((eb) => eb.or([eb('lastUsedStep', 'is', null), eb('lastUsedStep', '<', step)]))
        .executeTakeFirst();
      return affected(res) === 1;
    },

    /** Removes the factor, pending enrolment, recovery codes and open challenges of a user. */
    async deleteAllForUser(userId: string): Promise<void> {
      await db.deleteFrom('mfaChallenges').where('userId', '=', userId).execute();
      await db.deleteFrom('mfaRecoveryCodes').where('userId', '=', userId).execute();
      await db.deleteFrom('userMfa').where('userId', '=', userId).execute();
    },

    async listUnusedRecoveryCodes(userId: string): Promise<RecoveryCodeRow[]> {
      return db
        .selectFrom('mfaRecoveryCodes')
        .select(['id', 'codeHash'])
        .where('userId', '=', userId)
        .where('usedAt', 'is', null)
        .orderBy('id')
        .execute();
    },

    async countUnusedRecoveryCodes(userId: string): Promise<number> {
      const r = await db
        .selectFrom('mfaRecoveryCodes')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('userId', '=', userId)
        .where('usedAt', 'is', null)
        .executeTakeFirstOrThrow();
      return Number(r.n);
    },

    /** Marks a recovery code used; false when it already was (a concurrent use won). */
    async useRecoveryCode(id: number, at: string): Promise<boolean> {
      const res = await db
        .updateTable('mfaRecoveryCodes')
        .set({ usedAt: at })
        .where('id', '=', id)
        .where('usedAt', 'is', null)
        .executeTakeFirst();
      return affected(res) === 1;
    },

    /** The old set dies with the new one's arrival. */
    async replaceRecoveryCodes(userId: string, hashes: readonly string[], at: string): Promise<void> {
      await db.deleteFrom('mfaRecoveryCodes').where('userId', '=', userId).execute();
      if (hashes.length) {
        await db
          .insertInto('mfaRecoveryCodes')
          .values(hashes.map((codeHash) => ({ userId, codeHash, createdAt: at, usedAt: null })))
          .execute();
      }
    },

    async insertChallenge(c: MfaChallenge): Promise<void> {
      await db.insertInto('mfaChallenges').values(c).execute();
    },

    async findChallenge(tokenHash: string): Promise<MfaChallenge | undefined> {
      return db.selectFrom('mfaChallenges').selectAll().where('tokenHash', '=', tokenHash).executeTakeFirst();
    },

    /** Counts a wrong code on a live challenge; answers the attempts so far. */
    async failChallenge(tokenHash: string): Promise<number> {
      await db
        .updateTable('mfaChallenges')
        .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
        .where('tokenHash', '=', tokenHash)
        .where('usedAt', 'is', null)
        .execute();
      const row = await db.selectFrom('mfaChallenges').select('attempts').where('tokenHash', '=', tokenHash).executeTakeFirst();
      return row?.attempts ?? Number.POSITIVE_INFINITY;
    },

    /** Uses a challenge up: true for exactly one caller, and only while it is live. */
    async consumeChallenge(tokenHash: string, at: string, maxAttempts: number): Promise<boolean> {
      const res = await db
        .updateTable('mfaChallenges')
        .set({ usedAt: at })
        .where('tokenHash', '=', tokenHash)
        .where('usedAt', 'is', null)
        .where('expiresAt', '>', at)
        .where('attempts', '<', maxAttempts)
        .executeTakeFirst();
      return affected(res) === 1;
    },

    /** Ends every pending sign-in of a user (after a password change or reset). */
    async deleteChallengesForUser(userId: string): Promise<void> {
      await db.deleteFrom('mfaChallenges').where('userId', '=', userId).execute();
    },

    /**
     * Access to one sealed TOTP column (the active or the pending secret), keyed by user id, for
     * `keys rotate-master` (see `mfa.sealed.ts`). Rows whose column is null are skipped.
     */
    sealedSecrets(column: 'secretSealed' | 'pendingSecretSealed') {
      return {
        async page(afterUserId: string | undefined, limit: number): Promise<{ key: string; sealed: string }[]> {
          let q = db.selectFrom('userMfa').select(['userId', column]).where(column, 'is not', null);
          if (afterUserId !== undefined) q = q.where('userId', '>', afterUserId);
          const rows = await q.orderBy('userId').limit(limit).execute();
          return rows.flatMap((r) => {
            const sealed = r[column];
            return sealed === null ? [] : [{ key: r.userId, sealed }];
          });
        },
        async read(userId: string): Promise<string | undefined> {
          const row = await db.selectFrom('userMfa').select(column).where('userId', '=', userId).executeTakeFirst();
          return row?.[column] ?? undefined;
        },
        /** Compare-and-set: a secret re-enrolled or activated meanwhile is never overwritten. */
        async swap(userId: string, previous: string, next: string): Promise<boolean> {
          const res = await db
            .updateTable('userMfa')
            .set({ [column]: next })
            .where('userId', '=', userId)
            .where(column, '=', previous)
            .executeTakeFirst();
          return affected(res) === 1;
        },
      };
    },

    /** Drops challenges that can no longer be used (expired a while ago). */
    async purgeChallenges(before: string): Promise<void> {
      await db.deleteFrom('mfaChallenges').where('expiresAt', '<', before).execute();
    },
  };
}
export type MfaRepo = ReturnType<typeof createMfaRepo>;
