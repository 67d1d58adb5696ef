import { createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { type MasterKeyring, type MasterSealedColumn, sealLabel } from '../crypto/index.js';
import type { Executor } from '../storage/index.js';

/** `EdDSA` signs Portcullis's own access tokens; `RS256` (required by OpenID Connect) signs ID tokens. */
export type SigningAlg = 'EdDSA' | 'RS256';
export const SIGNING_ALGS: readonly SigningAlg[] = ['EdDSA', 'RS256'];

export interface SigningKey {
  kid: string;
  alg: SigningAlg;
  publicJwk: JsonWebKey & { kid: string };
  publicKey: KeyObject;
  createdAt: string;
  retiredAt: string | null;
}

export interface ActiveSigningKey extends SigningKey {
  privateKey: KeyObject;
}

const signingKeyAad = (kid: string): string => sealLabel('sessions.signing_key', kid);
/** Keys from before RS256 carry no other algorithm than EdDSA. */
const algOf = (publicJwk: string): SigningAlg => ((JSON.parse(publicJwk) as { alg?: string }).alg === 'RS256' ? 'RS256' : 'EdDSA');

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
  let currentRsa: ActiveSigningKey | undefined;
  /** Private JWKs of every verifying key, the active ones first (the OpenID Provider's keystore). */
  let privateJwks: Array<JsonWebKey & { kid: string; alg: SigningAlg }> = [];
  /** Changes whenever the set of keys changes (the OpenID Provider rebuilds its keystore). */
  let generation = '';
  let lastReload = 0;

  function newKey(alg: SigningAlg, now: Date) {
    const { publicKey, privateKey } =
      alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ed25519');
    const kid = `${alg === 'RS256' ? 'r' : 'k'}${now.getTime().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
    const publicJwk = { ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
    const privateJwk = JSON.stringify(privateKey.export({ format: 'jwk' }));
    return {
      kid,
      publicJwk: JSON.stringify(publicJwk),
      privateJwkSealed: keyring.wrap(privateJwk, signingKeyAad(kid)),
      createdAt: now.toISOString(),
      retiredAt: null,
    };
  }

  /** Adds a signing key for each of `algs`, retiring the ones of those algorithms that signed until now. Answers the EdDSA kid (or the first). */
  async function generate(now: Date, algs: readonly SigningAlg[] = SIGNING_ALGS): Promise<string> {
    const rows = algs.map((alg) => newKey(alg, now));
    await db.transaction().execute(async (tx) => {
      const live = await tx.selectFrom('signingKeys').select(['kid', 'publicJwk']).where('retiredAt', 'is', null).execute();
      const retire = live.filter((r) => algs.includes(algOf(r.publicJwk))).map((r) => r.kid);
      if (retire.length > 0) await tx.updateTable('signingKeys').set({ retiredAt: now.toISOString() }).where('kid', 'in', retire).execute();
      await tx.insertInto('signingKeys').values(rows).execute();
    });
    return (rows[algs.indexOf('EdDSA')] ?? rows[0])?.kid as string;
  }

  async function reload(): Promise<void> {
    const rows = await db.selectFrom('signingKeys').selectAll().orderBy('createdAt', 'desc').orderBy('kid', 'desc').execute();
    const cutoff = Date.now() - deps.accessTokenTtlSeconds * 1000 - 60_000;
    const next = new Map<string, SigningKey>();
    const active: Partial<Record<SigningAlg, ActiveSigningKey>> = {};
    const jwks: typeof privateJwks = [];
    for (const row of rows) {
      // A retired key stops verifying once every token it signed has expired.
      if (row.retiredAt && Date.parse(row.retiredAt) < cutoff) continue;
      const publicJwk = JSON.parse(row.publicJwk) as SigningKey['publicJwk'];
      const alg = algOf(row.publicJwk);
      const key: SigningKey = {
        kid: row.kid,
        alg,
        publicJwk,
        publicKey: createPublicKey({ key: publicJwk, format: 'jwk' }),
        createdAt: row.createdAt,
        retiredAt: row.retiredAt,
      };
      next.set(row.kid, key);
      const jwk = JSON.parse(keyring.unwrap(row.privateJwkSealed, signingKeyAad(row.kid)).toString('utf8')) as JsonWebKey;
      const withKid = { ...jwk, kid: row.kid, alg, use: 'sig' };
      if (!row.retiredAt && !active[alg]) {
        active[alg] = { ...key, privateKey: createPrivateKey({ key: jwk, format: 'jwk' }) };
        jwks.unshift(withKid);
      } else {
        jwks.push(withKid);
      }
    }
    verifying = next;
    current = active.EdDSA;
    currentRsa = active.RS256;
    privateJwks = jwks;
    generation = [...next.keys()].sort().join(',') + (current ? `|${current.kid}` : '') + (currentRsa ? `|${currentRsa.kid}` : '');
    lastReload = Date.now();
  }

  return {
    /** Loads keys, creating the first one on a new database. */
    async init(): Promise<void> {
      await reload();
      const missing = SIGNING_ALGS.filter((alg) => !(alg === 'RS256' ? currentRsa : current));
      if (missing.length > 0) {
        await generate(new Date(), missing);
        await reload();
      }
    },
    /** Adds a new signing key of each algorithm; the previous ones keep verifying until their tokens expire. */
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
    /** The public keys: EdDSA first (Portcullis access tokens), then RS256 (ID tokens). */
    jwks(): { keys: SigningKey['publicJwk'][] } {
      const all = [...verifying.values()];
      return { keys: [...all.filter((k) => k.alg === 'EdDSA'), ...all.filter((k) => k.alg !== 'EdDSA')].map((k) => k.publicJwk) };
    },
    /** Private JWKs of every verifying key, the signing ones first: the OpenID Provider's keystore. */
    privateJwks(): ReadonlyArray<JsonWebKey & { kid: string; alg: SigningAlg }> {
      return privateJwks;
    },
    /** Changes whenever the keys change. */
    generation(): string {
      return generation;
    },
  };
}
export type SigningKeyStore = ReturnType<typeof createSigningKeyStore>;
