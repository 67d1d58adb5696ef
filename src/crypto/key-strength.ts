import type { Secret } from './secret.js';

/**
 * True for a key a person typed rather than generated: fewer than 16 distinct byte values among the
 * 32 (`00…`, `aa…`, `deadbeef…`, `0123…`). 32 random bytes have about 30 distinct values; fewer than
 * 16 happens by chance far less often than once in 2^100 keys. Lives in crypto/, which alone unwraps keys.
 */
export function isPlaceholderKey(key: Secret<Buffer>): boolean {
  return new Set(key.unwrap()).size < 16;
}
