import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Secret } from './secret.js';

/** A new random UUID (v4). */
export const newId = (): string => randomUUID();

/** `bytes` random bytes as base64url: refresh tokens, API key secrets, one-time tokens. */
export const randomToken = (bytes = 32): string => randomBytes(bytes).toString('base64url');

/** SHA-256 of a high-entropy token, hex. Fit for tokens only; passwords go through argon2id. */
export const sha256Hex = (value: string): string => createHash('sha256').update(value).digest('hex');

/**
 * Compares two secrets in constant time. Both sides are hashed first so that
 * neither the content nor the length of the expected value leaks through timing.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** True when `presented` equals the configured secret, compared in constant time (`constantTimeEqual`). */
export function secretEquals(secret: Secret, presented: string): boolean {
  return constantTimeEqual(secret.unwrap(), presented);
}
