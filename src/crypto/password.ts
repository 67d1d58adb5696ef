import { hash, verify } from '@node-rs/argon2';
import { verifyForeignHash } from './foreign-hash.js';
import { createSemaphore } from './semaphore.js';

/** argon2id cost parameters and how many hashes may run at once (config's `argon2`). */
export interface Argon2Params {
  memoryKiB: number;
  timeCost: number;
  parallelism: number;
  /** Hashes running at once; the rest queue, so logins cannot starve the event loop's thread pool. */
  concurrency: number;
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /**
   * Verifies; never throws on a malformed stored hash (answers false). Hashes imported from other
   * systems (bcrypt, scrypt, PBKDF2, crypt formats…, see `foreign-hash.ts`) verify too; `needsRehash`
   * is true for them, so the first successful sign-in stores argon2id.
   */
  verify(storedHash: string, password: string): Promise<boolean>;
  /** Burns the same time as a real verify, for users that do not exist. */
  verifyDummy(password: string): Promise<void>;
  /** True when the stored hash was made with other parameters than the current ones. */
  needsRehash(storedHash: string): boolean;
}

/**
 * argon2id through @node-rs/argon2, whose work runs on libuv's thread pool (off the event loop).
 * A semaphore bounds how many hashes run at once so that a login flood queues instead of
 * taking every pool thread from other work.
 */
export function createPasswordHasher(params: Argon2Params): PasswordHasher {
  const options = {
    algorithm: 2 as const, // Algorithm.Argon2id (a const enum, not importable under verbatimModuleSyntax)
    memoryCost: params.memoryKiB,
    timeCost: params.timeCost,
    parallelism: params.parallelism,
  };
  const gate = createSemaphore(params.concurrency);
  const marker = `$argon2id$v=19$m=${params.memoryKiB},t=${params.timeCost},p=${params.parallelism}$`;
  let dummyHash: Promise<string> | undefined;
  const getDummy = (): Promise<string> => {
    dummyHash ??= gate.run(() => hash('portcullis-dummy-password-for-timing', options));
    return dummyHash;
  };

  return {
    hash: (password) => gate.run(() => hash(password, options)),
    async verify(storedHash, password) {
      if (!storedHash.startsWith('$argon2')) return gate.run(() => verifyForeignHash(storedHash, password));
      try {
        return await gate.run(() => verify(storedHash, password));
      } catch {
        return false;
      }
    },
    async verifyDummy(password) {
      const dummy = await getDummy();
      await gate.run(() => verify(dummy, password)).catch(() => false);
    },
    needsRehash: (storedHash) => !storedHash.startsWith(marker),
  };
}
