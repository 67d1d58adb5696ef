import { dictionary } from '@zxcvbn-ts/language-common';

/** Largest accepted password, in UTF-8 bytes after NFKC: long passphrases fit, hashing cannot be abused. */
export const PASSWORD_MAX_BYTES = 1024;
/** Longest accepted password in characters (NIST asks that at least 64 be allowed). */
export const PASSWORD_MAX_CHARS = 256;
export const PASSWORD_MIN_FLOOR = 8;

let blocklist: Set<string> | undefined;
/** 49,233 common passwords from @zxcvbn-ts/language-common, compared after NFKC and case folding. */
function commonPasswords(): Set<string> {
  blocklist ??= new Set(dictionary['passwords-common'].map((p) => p.normalize('NFKC').toLowerCase()));
  return blocklist;
}

/** NFKC, as NIST SP 800-63B-4 asks before hashing, so that equivalent Unicode forms verify alike. */
export const normalizePassword = (password: string): string => password.normalize('NFKC');

export interface PasswordPolicyInput {
  minLength: number;
  userName?: string | null;
  email?: string | null;
}

/**
 * Checks a new password after NIST SP 800-63B-4 / OWASP ASVS 5.0: length bounds, no composition
 * rules, not a common or breached password, not the user's own name. Returns the reasons it fails.
 */
export function checkPassword(password: string, policy: PasswordPolicyInput): string[] {
  const normalized = normalizePassword(password);
  const reasons: string[] = [];
  const length = [...normalized].length;
  if (length < Math.max(PASSWORD_MIN_FLOOR, policy.minLength))
    reasons.push(`too_short:min=${Math.max(PASSWORD_MIN_FLOOR, policy.minLength)}`);
  if (length > PASSWORD_MAX_CHARS || Buffer.byteLength(normalized, 'utf8') > PASSWORD_MAX_BYTES) reasons.push('too_long');
  const folded = normalized.toLowerCase();
  if (commonPasswords().has(folded)) reasons.push('common_password');
  const names = [policy.userName, policy.email, policy.email?.split('@')[0]].filter((v): v is string => !!v);
  if (names.some((n) => n.toLowerCase() === folded)) reasons.push('matches_user_name');
  return reasons;
}

/** Warm the blocklist at start-up instead of on the first request. */
export function preloadPasswordBlocklist(): number {
  return commonPasswords().size;
}
