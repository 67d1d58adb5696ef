import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { Secret } from './secret.js';

const VERSION = 'v1';

/**
 * AES-256-GCM with a random 96-bit nonce. `aad` binds the ciphertext to where it is stored
 * (organization, row, field), so a ciphertext copied elsewhere fails to open.
 * Output: `v1.<nonce>.<ciphertext+tag>` in base64url.
 */
export function seal(key: Buffer, plaintext: Buffer | string, aad: string): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return `${VERSION}.${nonce.toString('base64url')}.${body.toString('base64url')}`;
}

/** Opens a `seal` output; throws when the key, the AAD or the ciphertext does not match. */
export function open(key: Buffer, sealed: string, aad: string): Buffer {
  const [version, nonceText, bodyText] = sealed.split('.');
  if (version !== VERSION || !nonceText || !bodyText) throw new Error('unrecognised ciphertext');
  const body = Buffer.from(bodyText, 'base64url');
  if (body.length < 16) throw new Error('ciphertext too short');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonceText, 'base64url'));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(body.subarray(body.length - 16));
  return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]);
}

/**
 * The master key (and, during rotation, the previous one). Everything it seals is listed in the
 * sealed-column registry (`sealed-registry.ts`), which `keys rotate-master` walks.
 */
export interface MasterKeyring {
  /** Id of the current master key (first 8 hex chars of a hash), stored beside wrapped keys. */
  readonly currentId: string;
  /** Seals under the current key. */
  wrap(plaintext: Buffer | string, aad: string): string;
  /** Tries the current key, then the previous one. */
  unwrap(sealed: string, aad: string): Buffer;
  /**
   * The value sealed anew under the current key when only the previous key opens it; `undefined`
   * when the current key already opens it (so a second rotation pass changes nothing). Throws when
   * neither key opens it.
   */
  reseal(sealed: string, aad: string): string | undefined;
}

export function createMasterKeyring(current: Secret<Buffer>, previous?: Secret<Buffer>): MasterKeyring {
  const keys = [current, ...(previous ? [previous] : [])].map((s) => s.unwrap());
  const first = keys[0] as Buffer;
  return {
    currentId: keyId(first),
    wrap: (plaintext, aad) => seal(first, plaintext, aad),
    unwrap(sealed, aad) {
      let lastError: unknown;
      for (const key of keys) {
        try {
          return open(key, sealed, aad);
        } catch (err) {
          lastError = err;
        }
      }
      throw lastError instanceof Error ? lastError : new Error('cannot unwrap');
    },
    reseal(sealed, aad) {
      try {
        open(first, sealed, aad).fill(0);
        return undefined;
      } catch {
        // Not (or not correctly) sealed under the current key: the previous one must open it.
      }
      let lastError: unknown = new Error('no previous master key configured');
      for (const key of keys.slice(1)) {
        try {
          const plaintext = open(key, sealed, aad);
          try {
            return seal(first, plaintext, aad);
          } finally {
            plaintext.fill(0);
          }
        } catch (err) {
          lastError = err;
        }
      }
      throw lastError instanceof Error ? lastError : new Error('cannot reseal');
    },
  };
}

/** A short public identifier of a master key (never the key itself). */
export function keyId(key: Buffer): string {
  return createHash('sha256').update('portcullis-master-key-id').update(key).digest('hex').slice(0, 8);
}
