import { createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { type MasterKeyring, type MasterSealedColumn, sealLabel } from '../crypto/index.js';
import type { Executor } from '../storage/index.js';

export interface SigningKey {
  kid: string;
  publicJwk: JsonWebKey & { kid: string };
  publicKey: KeyObject;
  createdAt: string;
  retiredAt: string | null;
}

export interface ActiveSigningKey extends SigningKey {
  privateKey: KeyObject;
}

const signingKeyAad = (kid: string): string => sealLabel('sessions.signing_key', kid);

/** The signing keys' private halves, sealed under the master key: registered for `keys rotate-master`. */
export const signingKeysSealedColumns: readonly MasterSealedColumn[] = [
  {
    owner: 'sessions',
    kind: 'master_key',
    table: 'signing_keys',
    column: 'private_jwk_sealed',
    holds: 'token signing private keys',
    labelOf: signingKeyAad,
    rows: ({ db }) => ({
      async page(after, limit) {
        let q = db.selectFrom('signingKeys').select(['kid', 'privateJwkSealed']);
        if (after !== undefined) q = q.where('kid', '>', after);
        const rows = await q.orderBy('kid').limit(limit).execute();
        return rows.map((r) => ({ key: r.kid, sealed: r.privateJwkSealed }));
      },
      async read(kid) {
        return (await db.selectFrom('signingKeys').select('privateJwkSealed').where('kid', '=', kid).executeTakeFirst())?.privateJwkSealed;
      },
      async swap(kid, previous, next) {
        const res = await db
          .updateTable('signingKeys')
          .set({ privateJwkSealed: next })
          .where('kid', '=', kid)
          .where('privateJwkSealed', '=', previous)
          .executeTakeFirst();
        return Number(res.numUpdatedRows) === 1;
      },
    }),
  },
];

/**
 * Ed25519 token-signing keys, stored in the database with the private half sealed under the
 * master key. The newest unretired key signs; retired keys verify until their tokens expire.
 */
export function createSigningKeyStore(deps: {
  db: Executor;
  keyring: MasterKeyring;
  accessTokenTtlSeconds: number;
  /** Tells every instance that a new key signs (they reload their keys and JWKS at once). */
  announceRotation?: (kid: string) => Promise<void>;
}) {
  const { db, keyring } = deps;
  let verifying = new Map<string, SigningKey>();
  let current: ActiveSigningKey | undefined;
  let lastReload = 0;

  async function generate(now: Date): Promise<string> {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const kid = `k${now.getTime().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
    const publicJwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'EdDSA', use: 'sig' };
    const privateJwk = JSON.stringify(privateKey.export({ format: 'jwk' }));
    await db.transaction().execute(async (tx) => {
      await tx.updateTable('signingKeys').set({ retiredAt: now.toISOString() }).where('retiredAt', 'is', null).execute();
      await tx
        .insertInto('signingKeys')
        .values({
          kid,
          publicJwk: JSON.stringify(publicJwk),
          privateJwkSealed: keyring.wrap(privateJwk, signingKeyAad(kid)),
          createdAt: now.toISOString(),
          retiredAt: null,
        })
        .execute();
    });
    return kid;
  }

  async function reload(): Promise<void> {
    const rows = await db.selectFrom('signingKeys').selectAll().orderBy('createdAt', 'desc').execute();
    const cutoff = Date.now() - deps.accessTokenTtlSeconds * 1000 - 60_000;
    const next = new Map<string, SigningKey>();
    let active: ActiveSigningKey | undefined;
    for (const row of rows) {
      // A retired key stops verifying once every token it signed has expired.
      if (row.retiredAt && Date.parse(row.retiredAt) < cutoff) continue;
      const publicJwk = JSON.parse(row.publicJwk) as SigningKey['publicJwk'];
      const key: SigningKey = {
        kid: row.kid,
        publicJwk,
        publicKey: createPublicKey({ key: publicJwk, format: 'jwk' }),
        createdAt: row.createdAt,
        retiredAt: row.retiredAt,
      };
      next.set(row.kid, key);
      if (!row.retiredAt && !active) {
        const jwk = JSON.parse(keyring.unwrap(row.privateJwkSealed, signingKeyAad(row.kid)).toString('utf8'));
        active = { ...key, privateKey: createPrivateKey({ key: jwk, format: 'jwk' }) };
      }
    }
    verifying = next;
    current = active;
    lastReload = Date.now();
  }

  return {
    /** Loads keys, creating the first one on a new database. */
    async init(): Promise<void> {
      await reload();
      if (!current) {
        await generate(new Date());
        await reload();
      }
    },
    /** Adds a new signing key; the previous one keeps verifying until its tokens expire. */
    async rotate(now = new Date()): Promise<string> {
      const kid = await generate(now);
      await reload();
      await deps.announceRotation?.(kid);
      return kid;
    },
    /** Reads the keys again (another instance or `portcullis keys rotate` rotated them). */
    reload,
    signer(): ActiveSigningKey {
      if (!current) throw new Error('signing keys not loaded');
      return current;
    },
    /** The verifying key for `kid`; an unknown kid triggers one reload (a rotation elsewhere), at most every 5 s. */
    async find(kid: string): Promise<SigningKey | undefined> {
      const key = verifying.get(kid);
      if (key || Date.now() - lastReload < 5000) return key;
      await reload();
      return verifying.get(kid);
    },
    jwks(): { keys: SigningKey['publicJwk'][] } {
      return { keys: [...verifying.values()].map((k) => k.publicJwk) };
    },
  };
}
export type SigningKeyStore = ReturnType<typeof createSigningKeyStore>;
