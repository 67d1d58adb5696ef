import type { Selectable } from 'kysely';
import type { Scope } from '../../auth/index.js';
import type { ApiKeysTable, Executor } from '../../storage/index.js';

export interface ApiKey {
  id: number;
  organizationId: string;
  ownerId: string;
  name: string;
  description: string | null;
  publicKey: string;
  secretHash: string;
  secretPrefix: string;
  /** Explicit scopes, or `null`: the owner's default scopes, following the owner's roles. */
  scopes: Scope[] | null;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

const toApiKey = (r: Selectable<ApiKeysTable>): ApiKey => ({ ...r, scopes: JSON.parse(r.scopes) as Scope[] | null });

export function createApiKeysRepo(db: Executor) {
  return {
    async findBySecretHash(secretHash: string): Promise<ApiKey | undefined> {
      const row = await db.selectFrom('apiKeys').selectAll().where('secretHash', '=', secretHash).executeTakeFirst();
      return row && toApiKey(row);
    },
    async findByPublicKey(publicKey: string): Promise<ApiKey | undefined> {
      const row = await db.selectFrom('apiKeys').selectAll().where('publicKey', '=', publicKey).executeTakeFirst();
      return row && toApiKey(row);
    },
    async findById(id: number): Promise<ApiKey | undefined> {
      const row = await db.selectFrom('apiKeys').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toApiKey(row);
    },
    async list(organizationId: string, ownerId?: string): Promise<ApiKey[]> {
      let q = db.selectFrom('apiKeys').selectAll().where('organizationId', '=', organizationId);
      if (ownerId) q = q.where('ownerId', '=', ownerId);
      return (await q.orderBy('id').limit(1000).execute()).map(toApiKey);
    },
    async insert(key: Omit<ApiKey, 'id'>): Promise<ApiKey> {
      const row = await db
        .insertInto('apiKeys')
        .values({ ...key, scopes: JSON.stringify(key.scopes) })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toApiKey(row);
    },
    async revoke(id: number, at: string): Promise<void> {
      await db.updateTable('apiKeys').set({ revokedAt: at }).where('id', '=', id).where('revokedAt', 'is', null).execute();
    },
    async revokeAllForOwner(ownerId: string, at: string): Promise<number[]> {
      const rows = await db
        .updateTable('apiKeys')
        .set({ revokedAt: at })
        .where('ownerId', '=', ownerId)
        .where('revokedAt', 'is', null)
        .returning('id')
        .execute();
      return rows.map((r) => r.id);
    },
    async touch(id: number, at: string): Promise<void> {
      await db.updateTable('apiKeys').set({ lastUsedAt: at }).where('id', '=', id).execute();
    },
  };
}
export type ApiKeysRepo = ReturnType<typeof createApiKeysRepo>;
