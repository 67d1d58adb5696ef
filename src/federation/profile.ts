import type { FieldMapping } from './idps.repo.js';

/** What a provider says about the person who signed in, after the field mapping. */
export interface ExternalProfile {
  subject: string;
  email?: string | undefined;
  /** True only when the provider asserts the email verified (`email_verified: true`). */
  emailVerified: boolean;
  displayName?: string | undefined;
  givenName?: string | undefined;
  familyName?: string | undefined;
  phone?: string | undefined;
}

/** Why a sign-in at the provider failed. `reason` is internal (audit, logs), never sent to the client. */
export class ProviderError extends Error {
  override name = 'ProviderError';
  constructor(
    readonly reason: string,
    /** True when the provider could not be reached (network, timeout, blocked address), not a refusal. */
    readonly unavailable = false,
  ) {
    super(reason);
  }
}

/**
 * Reads `a.b.c` from a JSON object, through own properties only: `constructor.name` or
 * `__proto__.x` read nothing.
 */
export function readPath(source: Record<string, unknown>, path: string | undefined): unknown {
  if (!path) return undefined;
  let value: unknown = source;
  for (const part of path.split('.')) {
    if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
    // Why: the path comes from an administrator's field mapping and the object from the provider; an
    // inherited value (a polluted `email_verified`) must never count as a claim, since it links accounts.
    if (!Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

const text = (v: unknown, max = 512): string | undefined => {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  return t ? t.slice(0, max) : undefined;
};

/** Applies a field mapping over claims (OIDC) or a userinfo document (OAuth2). */
export function mapProfile(source: Record<string, unknown>, mapping: FieldMapping, defaults: Required<FieldMapping>): ExternalProfile {
  const pick = (k: keyof FieldMapping) => readPath(source, (Object.hasOwn(mapping, k) ? mapping[k] : undefined) ?? defaults[k]);
  const subject = text(pick('identifier'), 255);
  if (!subject) throw new ProviderError('no_subject');
  const verified = pick('emailVerified');
  return {
    subject,
    email: text(pick('email'), 254)?.toLowerCase(),
    emailVerified: verified === true || verified === 'true',
    displayName: text(pick('displayName'), 200),
    givenName: text(readPath(source, 'given_name'), 200),
    familyName: text(readPath(source, 'family_name'), 200),
    phone: text(pick('phone'), 64),
  };
}
