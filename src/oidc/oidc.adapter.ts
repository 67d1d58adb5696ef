import { sha256Hex } from '../crypto/index.js';
import type { Executor } from '../storage/index.js';
import type { OauthClient } from './clients.repo.js';
import { toProviderMetadata } from './clients.service.js';

type Payload = Record<string, unknown> & { jti?: string; grantId?: string; uid?: string; userCode?: string; consumed?: number };

/**
 * Ids are stored as their SHA-256: an id is what a bearer holds (an opaque access or refresh token, an
 * authorization code, the session cookie), so a copy of the table hands out no usable credential. The
 * payload's own copy of the id (`jti`) is dropped when stored and put back when read.
 */
export const storedId = (id: string): string => sha256Hex(id);

/** Remove expired artifacts now and then (one upsert in this many). */
const SWEEP_EVERY = 200;

/**
 * oidc-provider's storage over ours: one `oidc_payloads` row per model and id, so every instance on
 * the same database serves the same codes, tokens, grants, sessions and interactions. `Client` is
 * answered from `oauth_clients` (the admin API's table), never stored here.
 */
export function createOidcAdapter(deps: { db: Executor; findClient: (id: string) => Promise<OauthClient | undefined> }) {
  const { db } = deps;
  let upserts = 0;

  return class OidcAdapter {
    readonly model: string;

    constructor(model: string) {
      this.model = model;
    }

    async upsert(id: string, payload: Payload, expiresIn?: number): Promise<void> {
      if (this.model === 'Client') return;
      const now = Date.now();
      const expiresAt = typeof expiresIn === 'number' ? new Date(now + expiresIn * 1000).toISOString() : null;
      const { jti, ...rest } = payload;
      const row = {
        payload: JSON.stringify(jti === id ? rest : payload),
        grantId: typeof payload.grantId === 'string' ? payload.grantId : null,
        uid: typeof payload.uid === 'string' ? payload.uid : null,
        userCode: typeof payload.userCode === 'string' ? payload.userCode : null,
        expiresAt,
      };
      await db
        .insertInto('oidcPayloads')
        .values({ model: this.model, id: storedId(id), ...row, consumedAt: null })
        .onConflict((oc) => oc.columns(['model', 'id']).doUpdateSet(row))
        .execute();
      if (++upserts % SWEEP_EVERY === 0) {
        await db.deleteFrom('oidcPayloads').where('expiresAt', '<', new Date(now).toISOString()).execute();
      }
    }

    private async findWhere(column: 'id' | 'uid' | 'userCode', value: string, id?: string): Promise<Payload | undefined> {
      const row = await db
        .selectFrom('oidcPayloads')
        .select(['payload', 'expiresAt', 'consumedAt'])
        .where('model', '=', this.model)
        .where(column, '=', value)
        .executeTakeFirst();
      if (!row) return undefined;
      if (row.expiresAt && Date.parse(row.expiresAt) <= Date.now()) return undefined;
      const payload = JSON.parse(row.payload) as Payload;
      if (id !== undefined && payload.jti === undefined) payload.jti = id;
      if (row.consumedAt) payload.consumed = Math.floor(Date.parse(row.consumedAt) / 1000);
      return payload;
    }

    async find(id: string): Promise<Payload | undefined> {
      if (typeof id !== 'string' || id.length === 0 || id.length > 512) return undefined;
      if (this.model === 'Client') {
        const client = await deps.findClient(id);
        return client ? (toProviderMetadata(client) as Payload) : undefined;
      }
      return this.findWhere('id', storedId(id), id);
    }

    async findByUid(uid: string): Promise<Payload | undefined> {
      return this.findWhere('uid', uid);
    }

    async findByUserCode(userCode: string): Promise<Payload | undefined> {
      return this.findWhere('userCode', userCode);
    }

    async consume(id: string): Promise<void> {
      await db
        .updateTable('oidcPayloads')
        .set({ consumedAt: new Date().toISOString() })
        .where('model', '=', this.model)
        .where('id', '=', storedId(id))
        .execute();
    }

    async destroy(id: string): Promise<void> {
      await db.deleteFrom('oidcPayloads').where('model', '=', this.model).where('id', '=', storedId(id)).execute();
    }

    /** Ends every artifact of a grant, whichever its model (a code used twice, a reused refresh token, a withdrawn consent). */
    async revokeByGrantId(grantId: string): Promise<void> {
      await db.deleteFrom('oidcPayloads').where('grantId', '=', grantId).execute();
      await db.deleteFrom('oidcPayloads').where('model', '=', 'Grant').where('id', '=', storedId(grantId)).execute();
    }
  };
}
