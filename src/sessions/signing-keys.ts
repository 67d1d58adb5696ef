import { createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { MasterKeyring } from '../crypto/index.js';
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

/**
 * Ed25519 token-signing keys, stored in the database with the private half sealed under the
 * master key. The newest unretired key signs; retired keys verify until their tokens expire.
 */
export function createSigningKeyStore(deps: { db: Executor; keyring: MasterKeyring; accessTokenTtlSeconds: number }) {
  const { db, keyring } = deps;
  let verifying = new Map<string, SigningKey>();
  let current: ActiveSigningKey | undefined;
  let lastReload = 0;

  const aad = (kid: string): string => `signing_key:${kid}`;

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
          privateJwkSealed: keyring.wrap(privateJwk, aad(kid)),
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
        const jwk = JSON.parse(keyring.unwrap(row.privateJwkSealed, aad(row.kid)).toString('utf8'));
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
      return kid;
    },
    /** Re-seals every private key under the current master key (`keys rotate-master`); answers how many. */
    async rewrap(): Promise<number> {
      const rows = await db.selectFrom('signingKeys').select(['kid', 'privateJwkSealed']).execute();
      for (const row of rows) {
        const plain = keyring.unwrap(row.privateJwkSealed, aad(row.kid));
        await db
          .updateTable('signingKeys')
          .set({ privateJwkSealed: keyring.wrap(plain, aad(row.kid)) })
          .where('kid', '=', row.kid)
          .execute();
      }
      return rows.length;
    },
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
