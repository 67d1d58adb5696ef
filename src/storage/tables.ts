import type { Generated } from 'kysely';

/** Timestamps are ISO-8601 UTC strings in both dialects (lexically sortable); booleans are 0/1. */
export type Iso = string;
export type Bool = number;

export interface OrganizationsTable {
  id: string;
  name: string;
  /** JSON: `OrganizationPolicy`. */
  policy: string;
  createdAt: Iso;
  updatedAt: Iso;
}

export interface UsersTable {
  id: string;
  organizationId: string;
  userName: string;
  /** Lower-cased user name: the instance-wide unique key and the login lookup. */
  userNameKey: string;
  email: string | null;
  phone: string | null;
  title: string | null;
  firstName: string | null;
  lastName: string | null;
  department: string | null;
  birthDate: string | null;
  lastDismissMessages: string | null;
  rank: number | null;
  image: string | null;
  address: string | null;
  postalCode: string | null;
  region: string | null;
  city: string | null;
  country: string | null;
  countryCode: string | null;
  mobile: string | null;
  notes: string | null;
  customerId: number | null;
  /** JSON string array. */
  roles: string;
  /** JSON string array. */
  groups: string;
  state: string;
  userType: string;
  adSid: string | null;
  externalId: string | null;
  /** JSON or null. */
  workloadIdentityConfig: string | null;
  passwordHash: string | null;
  passwordChangedAt: Iso | null;
  requireResetPassword: Bool;
  emailVerified: Bool;
  mfaEnabled: Bool;
  lastLoginAt: Iso | null;
  profileSource: string | null;
  /** JSON object of string values (HelloID's `userAttributes`), or null. */
  userAttributes: string | null;
  createdAt: Iso;
  updatedAt: Iso;
}

export interface UserSettingsTable {
  id: Generated<number>;
  userId: string;
  category: string;
  settingGroup: string;
  name: string;
  value: string;
  type: string;
  description: string;
  readOnly: Bool;
}

export interface ApiKeysTable {
  id: Generated<number>;
  organizationId: string;
  ownerId: string;
  name: string;
  description: string | null;
  /** Public identifier (`key` on the wire). */
  publicKey: string;
  /** SHA-256 of the client secret. */
  secretHash: string;
  /** First characters of the secret, shown masked. */
  secretPrefix: string;
  /** JSON string array of scopes. */
  scopes: string;
  createdAt: Iso;
  expiresAt: Iso | null;
  revokedAt: Iso | null;
  lastUsedAt: Iso | null;
}

export interface AuditEventsTable {
  id: Generated<number>;
  organizationId: string | null;
  actorType: string;
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  outcome: string;
  ip: string | null;
  requestId: string | null;
  /** JSON, masked before it is written. */
  data: string;
  createdAt: Iso;
}

export interface SigningKeysTable {
  kid: string;
  /** Public JWK (JSON). */
  publicJwk: string;
  /** Private JWK sealed under the master key. */
  privateJwkSealed: string;
  createdAt: Iso;
  /** Set when a newer key took over signing; tokens it signed still verify until their expiry. */
  retiredAt: Iso | null;
}

export interface SessionsTable {
  id: string;
  userId: string;
  organizationId: string;
  /** `null` (full), `password_change` or `mfa_enroll`. */
  restriction: string | null;
  /** How the session signed in: password, mfa, idp, workload. */
  method: string;
  ip: string | null;
  userAgent: string | null;
  createdAt: Iso;
  lastSeenAt: Iso;
  expiresAt: Iso;
  revokedAt: Iso | null;
  revokedReason: string | null;
}

export interface RefreshTokensTable {
  /** SHA-256 of the opaque token. */
  tokenHash: string;
  sessionId: string;
  createdAt: Iso;
  /** Set when this token was exchanged for the next one; presenting it again is reuse. */
  rotatedAt: Iso | null;
}

export interface VaultDataKeysTable {
  organizationId: string;
  /** The organization's data key, sealed under the master key. */
  wrappedKey: string;
  /** Id of the master key that wrapped it. */
  masterKeyId: string;
  createdAt: Iso;
  updatedAt: Iso;
}

/** The SCIM user resource as the provisioning client sent it (never a password). */
export interface DirectoryScimUsersTable {
  userId: string;
  organizationId: string;
  /** JSON: the SCIM resource without `id`, `meta` and `password`. */
  resource: string;
  updatedAt: Iso;
}

export interface DirectoryGroupsTable {
  id: string;
  organizationId: string;
  displayName: string;
  /** Lower-cased display name: unique per organization. */
  displayNameKey: string;
  externalId: string | null;
  /** JSON: other attributes of the SCIM group as sent (never `members`, `id` or `meta`). */
  resource: string;
  createdAt: Iso;
  updatedAt: Iso;
}

export interface VaultLoginsTable {
  id: string;
  organizationId: string;
  name: string;
  authenticationUrl: string;
  homeUrl: string;
  /** Lower-cased host names of the two URLs (the `domain` filter). */
  authDomain: string;
  homeDomain: string;
  username: string | null;
  email: string | null;
  /** Lower-cased email: the unique match key. */
  emailKey: string | null;
  phone: string | null;
  /** Sealed with the organization's data key; never plaintext. */
  passwordSealed: string | null;
  /** 1 when a `twoFactorAuthConfiguration` object is set (it may hold only nulls). */
  hasTwoFactor: Bool;
  twoFactorMethod: string | null;
  twoFactorAlwaysRequired: Bool | null;
  twoFactorEmail: string | null;
  twoFactorEmailKey: string | null;
  totpSecretSealed: string | null;
  hasProxy: Bool;
  proxyUsername: string | null;
  proxyServer: string | null;
  proxyPasswordSealed: string | null;
  persistSession: Bool | null;
  /** Playwright storageState JSON, sealed. */
  sessionStateSealed: string | null;
  sessionUpdatedAt: Iso | null;
  createdAt: Iso;
  updatedAt: Iso;
  iconUrl: string | null;
  description: string | null;
  /** Kaizen's `loginConfiguration.apiKey`, sealed; write-only. */
  apiKeySealed: string | null;
  /** Kaizen's `loginConfiguration.bearerToken`, sealed; write-only. */
  bearerTokenSealed: string | null;
  /** Sealed JSON `[{id, key, value}]`: Kaizen's `additionalCredentials`. */
  additionalCredentialsSealed: string | null;
  /** JSON `[{id, key}]`: the non-secret half of `additionalCredentials`, for responses. */
  additionalCredentialKeys: string | null;
  isManualAuthentication: Bool | null;
  supportConcurrentLogins: Bool | null;
  supportsAgentConcurrency: Bool | null;
  useLlmLoginDetection: Bool | null;
  loginDetectionPrompt: string | null;
  loginInstructionsPrompt: string | null;
  /** JSON: the runner's per-login selector overrides. */
  selectors: string | null;
}

/** One sign-in performed by the vault's login runner. */
export interface VaultRunsTable {
  id: string;
  organizationId: string;
  loginId: string;
  /** QUEUED, RUNNING, AWAITING_CODE, SUCCEEDED, FAILED, CANCELLED. */
  status: string;
  /** JSON array of `{at, step, detail?}`: never a secret. */
  steps: string;
  reason: string | null;
  /** PNG (base64), sealed with the organization's data key; dropped after `screenshotExpiresAt`. */
  screenshotSealed: string | null;
  screenshotExpiresAt: Iso | null;
  usedStoredSession: Bool;
  /** The server process that runs it: a restarted one fails the runs it left behind. */
  instanceId: string;
  createdAt: Iso;
  startedAt: Iso | null;
  finishedAt: Iso | null;
}

export interface VaultEmailCodesTable {
  id: string;
  organizationId: string;
  loginId: string;
  /** Sealed JSON `{code, link}`. */
  valueSealed: string;
  receivedAt: Iso;
  expiresAt: Iso;
}

/**
 * Which organization a 2FA email address belongs to: inbound mail to it is delivered to that
 * organization's logins only, and no other organization's login may use it.
 */
export interface VaultInboxClaimsTable {
  /** The address trimmed and lower-cased, as in `vault_logins.two_factor_email_key`. */
  addressKey: string;
  organizationId: string;
  createdAt: Iso;
}

export interface DirectoryGroupMembersTable {
  groupId: string;
  userId: string;
  createdAt: Iso;
}

export interface Database {
  organizations: OrganizationsTable;
  users: UsersTable;
  userSettings: UserSettingsTable;
  apiKeys: ApiKeysTable;
  auditEvents: AuditEventsTable;
  signingKeys: SigningKeysTable;
  sessions: SessionsTable;
  refreshTokens: RefreshTokensTable;
  vaultDataKeys: VaultDataKeysTable;
  vaultLogins: VaultLoginsTable;
  vaultEmailCodes: VaultEmailCodesTable;
  vaultInboxClaims: VaultInboxClaimsTable;
  vaultRuns: VaultRunsTable;
  directoryScimUsers: DirectoryScimUsersTable;
  directoryGroups: DirectoryGroupsTable;
  directoryGroupMembers: DirectoryGroupMembersTable;
  identityProviders: IdentityProvidersTable;
  externalIdentities: ExternalIdentitiesTable;
  authFlows: AuthFlowsTable;
  userMfa: UserMfaTable;
  mfaRecoveryCodes: MfaRecoveryCodesTable;
  mfaChallenges: MfaChallengesTable;
  emailTokens: EmailTokensTable;
  passkeys: PasskeysTable;
  organizationBranding: OrganizationBrandingTable;
  webhookEndpoints: WebhookEndpointsTable;
  webhookDeliveries: WebhookDeliveriesTable;
  oauthClients: OauthClientsTable;
  oidcPayloads: OidcPayloadsTable;
  oauthConsents: OauthConsentsTable;
}

/** An external OAuth2/OIDC identity provider (`idps/{id}`); ids are instance-wide. */
export interface IdentityProvidersTable {
  id: string;
  organizationId: string;
  title: string;
  domain: string | null;
  /** `OIDC` or `OAUTH2`. */
  type: string;
  /** JSON: the provider config without its client secret. */
  config: string;
  /** Client secret sealed under the master key (AAD `idp:{id}:client_secret`). */
  clientSecretSealed: string;
  allowJitProvisioning: Bool;
  createdAt: Iso;
  updatedAt: Iso;
}

/** A provider's subject linked to a local user; (providerId, subject) is unique. */
export interface ExternalIdentitiesTable {
  providerId: string;
  subject: string;
  userId: string;
  email: string | null;
  createdAt: Iso;
  lastLoginAt: Iso | null;
}

/** A browser sign-in started at `GET /v1/idps/{id}/authorize`, consumed once by `/oauth/callback`. */
export interface AuthFlowsTable {
  /** SHA-256 of the `state` sent to the provider. */
  stateHash: string;
  providerId: string;
  nonce: string | null;
  /** PKCE code verifier sealed under the master key. */
  codeVerifierSealed: string;
  returnTo: string;
  createdAt: Iso;
  expiresAt: Iso;
}

/** A user's TOTP factor: the active secret, the last accepted time step and a pending enrolment. */
export interface UserMfaTable {
  userId: string;
  /** Active TOTP secret sealed under the master key (AAD binds it to the user); null when not enrolled. */
  secretSealed: string | null;
  /** Last accepted TOTP time step; a code at or before it is refused (each code works once). */
  lastUsedStep: number | null;
  /** Secret of an enrolment in progress, sealed like `secretSealed`. */
  pendingSecretSealed: string | null;
  /** JSON array of SHA-256 hashes of the pending recovery codes. */
  pendingRecoveryHashes: string | null;
  pendingCreatedAt: Iso | null;
  enabledAt: Iso | null;
  updatedAt: Iso;
}

export interface MfaRecoveryCodesTable {
  id: Generated<number>;
  userId: string;
  /** SHA-256 of the normalized code. */
  codeHash: string;
  createdAt: Iso;
  usedAt: Iso | null;
}

/** The pending second step of a sign-in (`mfaTempToken`). */
export interface MfaChallengesTable {
  /** SHA-256 of the `mfaTempToken`. */
  tokenHash: string;
  userId: string;
  /** The identifier the password step used (for the account's throttling). */
  identifier: string;
  createdAt: Iso;
  expiresAt: Iso;
  /** Wrong codes so far; the challenge dies at the limit. */
  attempts: number;
  usedAt: Iso | null;
}

/** Single-use email verification and password reset tokens. */
export interface EmailTokensTable {
  /** SHA-256 of the token. */
  tokenHash: string;
  userId: string;
  /** `email_verify` or `password_reset`. */
  purpose: string;
  /** The address the token was sent to. */
  email: string;
  createdAt: Iso;
  expiresAt: Iso;
  usedAt: Iso | null;
}

/** A WebAuthn credential (passkey) of a user. Nothing secret: the public key only verifies. */
export interface PasskeysTable {
  id: string;
  userId: string;
  organizationId: string;
  /** The credential id, base64url (what the authenticator answers as `id`). */
  credentialId: string;
  /** COSE public key, base64url. */
  publicKey: string;
  /** The authenticator's signature counter (0 for authenticators that do not count). */
  signCount: number;
  /** JSON array of transports (`internal`, `usb`, `hybrid`, …). */
  transports: string;
  name: string;
  /** `singleDevice` or `multiDevice` (a synced passkey). */
  deviceType: string;
  backedUp: number;
  createdAt: Iso;
  lastUsedAt: Iso | null;
  /** Set when the counter went backwards: a cloned authenticator; the passkey no longer signs in. */
  cloneSuspectedAt: Iso | null;
}

/** How an organization's hosted pages look. Public: shown before anyone signs in. */
export interface OrganizationBrandingTable {
  organizationId: string;
  displayName: string | null;
  /** An https URL (the console's CSP allows https images). */
  logoUrl: string | null;
  /** `#rrggbb`. */
  primaryColor: string | null;
  updatedAt: Iso;
}
/** An organization's webhook endpoint (Standard Webhooks). */
export interface WebhookEndpointsTable {
  id: string;
  organizationId: string;
  url: string;
  description: string;
  /** JSON array of audit actions (or `*`). */
  eventTypes: string;
  enabled: Bool;
  /** Signing secret (`whsec_…`) sealed under the master key (label `webhooks.endpoint_secret`). */
  secretSealed: string;
  /** The secret before the last rotation, still signing until `previousSecretExpiresAt`. */
  previousSecretSealed: string | null;
  previousSecretExpiresAt: Iso | null;
  /** Failed attempts in a row; at the breaker threshold the endpoint pauses until `circuitOpenUntil`. */
  consecutiveFailures: number;
  circuitOpenUntil: Iso | null;
  createdAt: Iso;
  updatedAt: Iso;
}

/** One event for one endpoint: the outbox row, retried until delivered or given up, and the delivery log. */
export interface WebhookDeliveriesTable {
  id: string;
  endpointId: string;
  organizationId: string;
  /** `webhook-id`: the event's id, the same for every endpoint, attempt and replay (receivers deduplicate by it). */
  eventId: string;
  eventType: string;
  /** The JSON body exactly as signed and sent. */
  payload: string;
  /** `pending`, `succeeded` or `failed` (given up). */
  status: string;
  attempts: number;
  nextAttemptAt: Iso;
  /** Set while one instance sends it; another may claim it once the lease has passed. */
  leaseUntil: Iso | null;
  leaseOwner: string | null;
  lastAttemptAt: Iso | null;
  lastResponseStatus: number | null;
  /** Why the last attempt failed (`http_500`, `timeout`, `blocked_address`, …), never a response body. */
  lastError: string | null;
  /** The delivery this one replays. */
  replayOf: string | null;
  createdAt: Iso;
  deliveredAt: Iso | null;
}

/** An application that signs people in through Portcullis (OpenID Provider client); ids are instance-wide. */
export interface OauthClientsTable {
  clientId: string;
  organizationId: string;
  name: string;
  /** SHA-256 (hex) of the client secret; null for public and `private_key_jwt` clients. */
  secretHash: string | null;
  /** JSON: redirect URIs, grant types, auth method, scopes, TTLs, jwks (never the secret). */
  settings: string;
  createdAt: Iso;
  updatedAt: Iso;
}

/** One oidc-provider artifact (code, token, grant, session, interaction…) by model and id. */
export interface OidcPayloadsTable {
  model: string;
  id: string;
  /** JSON payload as oidc-provider gave it. */
  payload: string;
  grantId: string | null;
  uid: string | null;
  userCode: string | null;
  /** Null: no expiry. */
  expiresAt: Iso | null;
  consumedAt: Iso | null;
}

/** The grant a person gave an application, remembered until withdrawn. */
export interface OauthConsentsTable {
  userId: string;
  clientId: string;
  grantId: string;
  scope: string;
  createdAt: Iso;
  updatedAt: Iso;
}
