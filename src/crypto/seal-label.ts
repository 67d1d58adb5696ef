/**
 * The associated data (AAD) of every sealed value, built in one place.
 *
 * AES-GCM authenticates the AAD with the ciphertext: a value sealed for one purpose and one row
 * opens only with exactly the same label, so a ciphertext copied to another row, column or
 * organization fails to open. Labels are never stored; they are rebuilt from the row's ids.
 *
 * Each purpose's format is frozen: changing a single byte makes every value already sealed for
 * that purpose unreadable. The JSON-array form (`["portcullis/<purpose>", ...ids]`, unambiguous
 * whatever the ids contain) is the form for new purposes; the older `prefix:id` forms stay
 * byte-for-byte as they were written (each has a distinct fixed prefix and one id, so no two
 * labels of different purposes or ids can coincide). `seal-label.test.ts` pins every format.
 */
const canonical = (tag: string, ...ids: string[]): string => JSON.stringify([`portcullis/${tag}`, ...ids]);

const LABELS = {
  /** An organization's vault data key, sealed under the master key. */
  'vault.data_key': (organizationId: string) => canonical('vault/data-key', organizationId),
  /** One secret field of a vault row, sealed under its organization's data key. */
  'vault.field': (organizationId: string, rowId: string, field: string) => canonical('vault/field', organizationId, rowId, field),
  /** A token signing private key (JWK), sealed under the master key. */
  'sessions.signing_key': (kid: string) => `signing_key:${kid}`,
  /** An identity provider's OAuth2/OIDC client secret, sealed under the master key. */
  'federation.idp_client_secret': (idpId: string) => `idp:${idpId}:client_secret`,
  /** The PKCE code verifier of a browser sign-in in progress, sealed under the master key. */
  'federation.auth_flow_verifier': (stateHash: string) => `auth_flow:${stateHash}:code_verifier`,
  /** A user's active TOTP secret, sealed under the master key. */
  'mfa.totp_secret': (userId: string) => `user_mfa.secret:${userId}`,
  /** The TOTP secret of an enrolment in progress, sealed under the master key. */
  'mfa.pending_totp_secret': (userId: string) => `user_mfa.pending:${userId}`,
  /** A webhook endpoint's signing secret (current or previous: rotation moves the sealed value), sealed under the master key. */
  'webhooks.endpoint_secret': (endpointId: string) => canonical('webhooks/endpoint-secret', endpointId),
} as const satisfies Record<string, (...ids: string[]) => string>;

/** What a value is sealed for; each purpose has its own frozen label format. */
export type SealPurpose = keyof typeof LABELS;

/** The ids a purpose's label binds a value to, in order. */
export type SealLabelIds<P extends SealPurpose> = Parameters<(typeof LABELS)[P]>;

/** Every purpose, for tests and documentation. */
export const SEAL_PURPOSES = Object.freeze(Object.keys(LABELS) as SealPurpose[]);

/**
 * The associated data for a value sealed for `purpose` in the row named by `ids`.
 * Throws on an empty id: a label without its id would match every row of its purpose.
 */
export function sealLabel<P extends SealPurpose>(purpose: P, ...ids: SealLabelIds<P>): string {
  const build = LABELS[purpose] as (...given: string[]) => string;
  // Why: an id that is empty (or not a string at run time) means a row was not identified; sealing
  // under such a label would bind the value to nothing in particular.
  for (const id of ids as string[]) if (typeof id !== 'string' || id.length === 0) throw new Error(`empty id in the ${purpose} seal label`);
  return build(...(ids as string[]));
}
