import { randomBytes } from 'node:crypto';
import { constantTimeEqual, sha256Hex } from '../crypto/index.js';

/** Crockford's base32 alphabet: no I, L, O or U, so codes read back without ambiguity. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const RECOVERY_CODE_COUNT = 10;
/** 16 characters of 5 bits: 80 bits of entropy per code (the issue asks for at least 64). */
const CODE_CHARS = 16;

/** One code, grouped for reading: `XXXX-XXXX-XXXX-XXXX`. */
export function generateRecoveryCode(): string {
  const bytes = randomBytes(CODE_CHARS);
  let out = '';
  // 256 is a multiple of 32, so `byte % 32` is uniform.
  for (const b of bytes) out += ALPHABET[b % 32];
  return out.match(/.{4}/g)!.join('-');
}

export const generateRecoveryCodes = (n = RECOVERY_CODE_COUNT): string[] => Array.from({ length: n }, generateRecoveryCode);

/** Canonical form of a typed code: case, spaces and dashes ignored, Crockford's look-alikes mapped. */
export function normalizeRecoveryCode(input: string): string {
  return input
    .toUpperCase()
    .replace(/[\s-]+/g, '')
    .replace(/O/g, '0')
    .replace(/[IL]/g, '1');
}

/** What is stored: SHA-256 of the canonical form (80-bit codes need no slow hash). */
export const hashRecoveryCode = (code: string): string => sha256Hex(`portcullis-recovery:${normalizeRecoveryCode(code)}`);

/**
 * Finds which stored hash a submitted code matches. Every candidate is compared, in constant
 * time, whatever matched earlier, so timing says nothing about which code (if any) matched.
 */
export function matchRecoveryCode<T extends { codeHash: string }>(candidates: readonly T[], submitted: string): T | undefined {
  const normalized = normalizeRecoveryCode(submitted);
  if (normalized.length !== CODE_CHARS || ![...normalized].every((c) => ALPHABET.includes(c))) return undefined;
  const hash = hashRecoveryCode(normalized);
  let found: T | undefined;
  for (const c of candidates) {
    if (constantTimeEqual(c.codeHash, hash) && !found) found = c;
  }
  return found;
}
