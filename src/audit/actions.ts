/**
 * Every audit action Portcullis records (`domain.entity_past_tense`). `docs/audit.md` lists the same
 * table; a test keeps them in step. `account` marks the actions that may change what a user sees about
 * their own account (`GET /v1/auth/user`), so the cached view of the users it names is dropped.
 */
export interface AuditActionSpec {
  account: boolean;
  description: string;
}

const a = (account: boolean, description: string): AuditActionSpec => ({ account, description });

export const AUDIT_ACTIONS = {
  'api_key.created': a(true, 'An API key was created (its scopes, never its secret).'),
  'api_key.revoked': a(true, 'An API key was revoked.'),
  'directory.group_created': a(true, 'A SCIM group was created.'),
  'directory.group_deleted': a(true, 'A SCIM group was deleted.'),
  'directory.group_updated': a(true, 'A SCIM group was renamed or its members changed.'),
  'idp.created': a(false, 'An identity provider was configured.'),
  'idp.deleted': a(false, 'An identity provider was removed.'),
  'idp.identity_linked': a(true, 'An external identity was linked to a user by a verified email.'),
  'idp.login_failed': a(false, 'A sign-in through an identity provider was refused (with its reason).'),
  'idp.updated': a(false, 'An identity provider was changed.'),
  'idp.user_provisioned': a(true, 'A user was created on a first sign-in through an identity provider.'),
  'login.authentication_cancelled': a(false, 'A sign-in by the login runner was cancelled.'),
  'login.authentication_code_submitted': a(false, 'A second-factor code was pushed to a sign-in waiting for it (never the code).'),
  'login.authentication_failed': a(false, 'A sign-in by the login runner failed (with its reason).'),
  'login.authentication_started': a(false, 'A sign-in by the login runner was requested.'),
  'login.authentication_succeeded': a(false, 'A sign-in by the login runner succeeded (and whether a stored session served it).'),
  'login.browser_session_closed': a(false, 'A live browser session of a vault login was closed (with why).'),
  'login.browser_session_connected': a(false, 'A CDP client connected to a live browser session.'),
  'login.browser_session_opened': a(false, 'A live browser session of a vault login was opened.'),
  'login.created': a(false, 'A vault login was created.'),
  'login.deleted': a(false, 'A vault login was deleted.'),
  'login.email_code_read': a(false, 'A captured 2FA email code was read.'),
  'login.email_code_received': a(false, 'A 2FA email code was captured by the inbound listener.'),
  'login.revealed': a(false, 'A vault secret was revealed (or the reveal was refused by its rate limit).'),
  'login.session_deleted': a(false, "A vault login's persisted browser session was deleted."),
  'login.session_read': a(false, "A vault login's persisted browser session was read."),
  'login.session_stored': a(false, 'A browser session was stored for a vault login.'),
  'login.totp_generated': a(false, "A TOTP code was generated from a vault login's seed."),
  'login.updated': a(false, 'A vault login was updated.'),
  'login.upsert_refused': a(false, 'An upsert was refused: another organization holds its 2FA email address.'),
  'mail.sent': a(false, 'A mail was sent to a user (its kind, never its content).'),
  'mfa.challenge_exhausted': a(false, 'An mfaTempToken died after too many wrong codes.'),
  'mfa.challenge_refused': a(false, 'An unknown, used or expired mfaTempToken was presented.'),
  'mfa.code_failed': a(false, 'A wrong second-factor code was presented.'),
  'mfa.disabled': a(true, 'A user turned MFA off.'),
  'mfa.enrolled': a(true, 'A user enrolled (or re-enrolled) TOTP.'),
  'mfa.enrollment_started': a(true, 'A user asked for a new TOTP secret.'),
  'mfa.passkey_clone_suspected': a(false, "A passkey's signature counter did not advance (a cloned authenticator): it no longer signs in."),
  'mfa.passkey_failed': a(false, 'A passkey sign-in was refused (unknown flow or credential, bad assertion, replay).'),
  'mfa.passkey_registered': a(true, 'A user registered a passkey.'),
  'mfa.passkey_removed': a(true, 'A user removed a passkey.'),
  'mfa.passkey_renamed': a(true, 'A user renamed a passkey.'),
  'mfa.passkey_used': a(true, 'A passkey signed a user in (as the second factor or passwordless).'),
  'mfa.reset': a(true, "An administrator reset a user's MFA (TOTP, recovery codes and passkeys removed)."),
  'mfa.recovery_code_used': a(true, 'A recovery code was used (with the remaining count).'),
  'mfa.recovery_codes_regenerated': a(true, 'A user replaced their recovery codes.'),
  'oauth.code_issued': a(false, 'An authorization code was issued to an application for a person (the scopes granted).'),
  'oauth.consent_given': a(false, 'A person allowed an application (the scopes), remembered until withdrawn.'),
  'oauth.consent_withdrawn': a(false, 'A person withdrew their consent to an application; its grant and tokens ended.'),
  'oauth.grant_revoked': a(
    false,
    'A grant and every token from it were revoked (a code used twice, a reused refresh token, a revocation).',
  ),
  'oauth.token_issued': a(false, 'The token endpoint issued tokens to an application (the grant type).'),
  'oauth.token_revoked': a(false, 'An application revoked a token (RFC 7009).'),
  'oauth_client.created': a(false, 'An OAuth client was registered (never its secret).'),
  'oauth_client.deleted': a(false, 'An OAuth client was deleted.'),
  'oauth_client.updated': a(false, 'An OAuth client was changed (the fields named; a rotated secret is never recorded).'),
  'organization.created': a(false, 'An organization was created.'),
  'organization.updated': a(false, "An organization's name or policy changed (the fields, not the values)."),
  'session.logged_out': a(true, 'A session was ended by its user.'),
  'session.login_failed': a(true, 'A sign-in was refused (with its reason).'),
  'session.login_succeeded': a(true, 'A user signed in (with the method).'),
  'session.mfa_challenged': a(true, 'A correct password was answered with an MFA challenge.'),
  'session.refresh_reused': a(true, 'A rotated refresh token was presented again: the session was revoked.'),
  'session.throttle_started': a(false, 'Failed sign-ins started a back-off for an identifier.'),
  'user.created': a(true, 'A user was created.'),
  'user.deleted': a(true, 'A user was deleted (soft): sessions and API keys revoked.'),
  'user.email_change_requested': a(true, 'A user asked for a new email address; a code went to it.'),
  'user.email_changed': a(true, "A user's new email address was verified and took effect."),
  'user.email_verification_failed': a(false, 'A wrong, used or expired email verification code was presented.'),
  'user.email_verified': a(true, "A user's email address was verified."),
  'user.exported': a(false, 'Users were exported (with the count, and whether secrets were included).'),
  'user.imported': a(true, 'A batch of an import created or updated users (with the counts, per batch).'),
  'user.password_change_failed': a(true, 'A password change was refused: wrong current password.'),
  'user.password_changed': a(true, 'A user changed their password: every session revoked.'),
  'user.password_reset': a(true, 'A password was reset with a mailed token: every session revoked.'),
  'user.password_reset_failed': a(false, 'A wrong, used or expired password reset token was presented.'),
  'user.password_reset_requested': a(true, 'A password reset was asked for (sent or not, with the reason).'),
  'user.password_set': a(true, 'An administrator set a password (admin API, seed 003, CLI).'),
  'user.profile_updated': a(true, 'A user changed their own profile fields or settings.'),
  'user.updated': a(true, 'An administrator or a directory changed a user (the fields, not the values).'),
  'webhook.created': a(false, 'A webhook endpoint was created (its URL and event types, never its secret).'),
  'webhook.deleted': a(false, 'A webhook endpoint was deleted with its delivery log.'),
  'webhook.delivery_replayed': a(false, 'A webhook delivery was queued again by hand (replay).'),
  'webhook.secret_rotated': a(false, "A webhook endpoint's signing secret was replaced (with the old one's grace period)."),
  'webhook.updated': a(false, 'A webhook endpoint was changed (the fields, not the values).'),
  'workload.token_exchanged': a(true, 'A workload token was exchanged for an access token.'),
  'workload.token_rejected': a(false, 'A workload token was refused (with its reason).'),
} as const satisfies Record<string, AuditActionSpec>;

export type AuditAction = keyof typeof AUDIT_ACTIONS;

/** Whether an action may change the account view of the users it names (unknown actions: yes, to be safe). */
export const changesAccount = (action: string): boolean =>
  !Object.hasOwn(AUDIT_ACTIONS, action) || AUDIT_ACTIONS[action as AuditAction].account;

/** The users whose account view an audit event may have changed (its user target, actor, or key owner). */
export function usersNamedBy(event: {
  action: string;
  actorType: string;
  actorId: string | null;
  targetType: string | null;
  targetId: string | null;
  data: Record<string, unknown>;
}): string[] {
  if (!changesAccount(event.action)) return [];
  const ids = new Set<string>();
  if (event.targetType === 'user' && event.targetId) ids.add(event.targetId);
  if (event.actorType === 'user' && event.actorId) ids.add(event.actorId);
  if (typeof event.data.onBehalfOf === 'string') ids.add(event.data.onBehalfOf);
  return [...ids];
}

/** True when `value` names an action of the catalogue (webhook subscriptions are checked against it). */
export const isAuditAction = (value: string): value is AuditAction => Object.hasOwn(AUDIT_ACTIONS, value);
