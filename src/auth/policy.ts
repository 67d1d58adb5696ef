import type { ErrorCode } from '../errors/index.js';
import { AppError } from '../errors/index.js';
import type { Principal } from './principal.js';
import { RANK, rankOf, type Scope } from './scopes.js';

/**
 * Everything an actor may try to do to an account, a key, an organization or an organization's
 * resources. Services name the action before they write; routes name the scope only as a first filter.
 */
export const ACTIONS = [
  // Administration of another account (admin API, seed 003, SCIM, CLI).
  'user.read',
  'user.create',
  'user.update',
  'user.change_email',
  'user.set_password',
  'user.change_roles',
  'user.change_state',
  'user.delete',
  'user.reset_mfa',
  'user.set_groups',
  // Moving users in and out in bulk (`POST /v1/users:import`, `portcullis import` / `export`).
  'user.import',
  'user.export',
  // The signed-in user's own account (`/v1/auth/*`).
  'self.update_profile',
  'self.change_email',
  'self.change_password',
  'self.manage_mfa',
  'self.manage_passkeys',
  'self.manage_sessions',
  // API keys (the target is the key's owner).
  'api_key.create',
  'api_key.revoke',
  // Organizations.
  'organization.read',
  'organization.create',
  'organization.update',
  // An organization's resources.
  'idp.read',
  'idp.write',
  'vault.read',
  'vault.write',
  'vault.reveal',
  // The login runner: signing in with a login's stored secrets, and a live signed-in browser.
  'vault.authenticate',
  'vault.browse',
  'audit.read',
  'webhook.read',
  'webhook.write',
  // OAuth clients (applications that sign people in through Portcullis).
  'oauth_client.read',
  'oauth_client.write',
  // A directory (SCIM) provisioning the organization's users and groups.
  'directory.provision',
] as const;
export type Action = (typeof ACTIONS)[number];

/** An account acted on. `isLastOwner` is set by the caller when the change would leave its organization without an owner. */
export interface UserTarget {
  kind: 'user';
  id: string;
  organizationId: string;
  roles: readonly string[];
  /** Roles the action grants (role changes, creation). */
  grantRoles?: readonly string[] | undefined;
  /** The change removes the last active owner of the organization. */
  isLastOwner?: boolean | undefined;
}
/** An organization (for `organization.create`, the one being created: only a superadmin passes). */
export interface OrganizationTarget {
  kind: 'organization';
  id: string;
}
/** Something that belongs to one organization: an identity provider, a vault login, the audit log, a webhook endpoint. */
export interface ResourceTarget {
  kind: 'resource';
  organizationId: string;
}
export type Target = UserTarget | OrganizationTarget | ResourceTarget;

export type Decision = { allow: true } | { allow: false; code: ErrorCode; reason: string };

/** The scope an API key (or a session) must hold for the action; `null` when none is needed. */
export const SCOPE_OF: Readonly<Record<Action, Scope | null>> = {
  'user.read': 'users:read',
  'user.create': 'users:write',
  'user.update': 'users:write',
  'user.change_email': 'users:write',
  'user.set_password': 'credentials:write',
  'user.change_roles': 'users:write',
  'user.change_state': 'users:write',
  'user.delete': 'users:write',
  'user.reset_mfa': 'users:write',
  'user.set_groups': 'users:write',
  'user.import': 'users:import',
  'user.export': 'users:export',
  'self.update_profile': 'profile:write',
  'self.change_email': null,
  'self.change_password': null,
  'self.manage_mfa': null,
  'self.manage_passkeys': null,
  'self.manage_sessions': null,
  'api_key.create': 'apikeys:write',
  'api_key.revoke': 'apikeys:write',
  'organization.read': null,
  'organization.create': 'organizations:write',
  'organization.update': 'organizations:write',
  'idp.read': null,
  'idp.write': 'idps:write',
  'vault.read': 'logins:read',
  'vault.write': 'logins:write',
  'vault.reveal': 'logins:reveal',
  'vault.authenticate': 'logins:write',
  // Why reveal: a live signed-in browser hands its cookies to whoever drives it, like the stored session.
  'vault.browse': 'logins:reveal',
  'audit.read': 'audit:read',
  'webhook.read': 'webhooks:read',
  'webhook.write': 'webhooks:write',
  'oauth_client.read': 'clients:read',
  'oauth_client.write': 'clients:write',
  'directory.provision': 'users:write',
};

/** Why: a stolen API key must never move the account's email, password or second factor; only a signed-in person may. */
const INTERACTIVE_ONLY: ReadonlySet<Action> = new Set([
  'self.change_email',
  'self.change_password',
  'self.manage_mfa',
  'self.manage_passkeys',
  'self.manage_sessions',
]);

/** Administrative actions on another account: the actor must outrank the target. */
const ACTS_ON_ACCOUNT: ReadonlySet<Action> = new Set([
  'user.update',
  'user.change_email',
  'user.set_password',
  'user.change_roles',
  'user.change_state',
  'user.delete',
  'user.reset_mfa',
  'api_key.revoke',
]);

/** Changes that end an owner's ownership: refused for the last one. */
const ENDS_OWNERSHIP: ReadonlySet<Action> = new Set(['user.change_roles', 'user.change_state', 'user.delete']);

/** Actions on an organization's resources that only its administrators take. */
const ADMINISTRATORS_ONLY: ReadonlySet<Action> = new Set([
  'user.create',
  'user.set_groups',
  'user.import',
  'user.export',
  'organization.update',
  'idp.write',
  'audit.read',
  'webhook.read',
  'webhook.write',
  'directory.provision',
  'oauth_client.read',
  'oauth_client.write',
]);

const deny = (code: ErrorCode, reason: string): Decision => ({ allow: false, code, reason });
const ALLOW: Decision = { allow: true };

/**
 * True when `actor` may take administrative action on an account of rank `target`: a higher rank
 * wins; owners act on owners of their own organization; only a superadmin acts on a superadmin.
 */
export function outranks(actorRank: number, targetRank: number, sameOrganization: boolean): boolean {
  if (actorRank > targetRank) return true;
  if (actorRank === RANK.superadmin && targetRank === RANK.superadmin) return true;
  return actorRank === RANK.owner && targetRank === RANK.owner && sameOrganization;
}

/**
 * The one authorization decision of Portcullis: may `actor` take `action` on `target`?
 * Pure: everything it needs is in its arguments (the caller looks up the target and whether it is
 * the last owner). Refusals name the public error (`auth.forbidden`, `resource.not_found` for what
 * another organization owns, `user.last_owner`) and an internal reason.
 */
export function can(actor: Principal | undefined, action: Action, target: Target): Decision {
  if (!actor) return deny('auth.unauthenticated', 'no principal');
  const actorRank = rankOf(actor.roles);
  const superadmin = actorRank === RANK.superadmin;
  const targetOrg = target.kind === 'organization' ? target.id : target.organizationId;
  const sameOrg = targetOrg === actor.organizationId;
  const self = target.kind === 'user' && target.id === actor.userId;

  if (action === 'organization.create') {
    if (!actor.scopes.has('organizations:write')) return deny('auth.forbidden', `${action}: missing scope organizations:write`);
    return superadmin ? ALLOW : deny('auth.forbidden', 'only a superadmin creates organizations');
  }
  // Why: another organization's data does not exist for the caller, ids guessed from it included.
  if (!sameOrg && !superadmin) return deny('resource.not_found', `${action}: other organization`);

  // Everyone may read their own account (GET /v1/users/{own id}), whatever their scopes.
  if (action === 'user.read' && self) return ALLOW;
  if (INTERACTIVE_ONLY.has(action) && actor.kind !== 'user') return deny('auth.forbidden', `${action} needs an interactive session`);
  const scope = SCOPE_OF[action];
  const selfService = action.startsWith('self.');
  // Sessions carry their role's scopes; for one's own account only an API key is narrowed by them.
  if (scope && !(selfService && actor.kind === 'user') && !actor.scopes.has(scope)) {
    return deny('auth.forbidden', `${action}: missing scope ${scope}`);
  }

  if (selfService) {
    return target.kind === 'user' && self ? ALLOW : deny('auth.forbidden', `${action}: not the caller's own account`);
  }
  if (ADMINISTRATORS_ONLY.has(action) && actorRank < RANK.admin) return deny('auth.forbidden', `${action}: administrators only`);

  if (target.kind === 'user') {
    const grant = target.grantRoles ? rankOf(target.grantRoles) : 0;
    if (grant > actorRank) return deny('auth.forbidden', `${action}: grants a rank above the actor's`);
    if (action === 'api_key.create' || action === 'api_key.revoke') {
      if (self) return ALLOW;
    }
    if (ACTS_ON_ACCOUNT.has(action)) {
      // Why: self-service goes through /v1/auth/* (which asks for the current password, a verified address, a factor).
      if (self) return deny('auth.forbidden', `${action}: use the self-service routes for one's own account`);
      if (actorRank < RANK.admin) return deny('auth.forbidden', `${action}: administrators only`);
      if (!outranks(actorRank, rankOf(target.roles), sameOrg))
        return deny('auth.forbidden', `${action}: target outranks or equals the actor`);
      if (target.isLastOwner && ENDS_OWNERSHIP.has(action)) return deny('user.last_owner', `${action}: last owner of the organization`);
    }
    if (action === 'api_key.create') return deny('auth.forbidden', 'API keys are created by their owner');
  }
  return ALLOW;
}

/** `can`, throwing the refusal as an `AppError` (its reason in `detail`, never sent). */
export function authorize(actor: Principal | undefined, action: Action, target: Target): Principal {
  const decision = can(actor, action, target);
  if (!decision.allow) throw new AppError(decision.code, { detail: decision.reason });
  return actor as Principal;
}

/** The target of an action on a user account, from the user. */
export function userTarget(
  user: { id: string; organizationId: string; roles: readonly string[] },
  extra: { grantRoles?: readonly string[] | undefined; isLastOwner?: boolean | undefined } = {},
): UserTarget {
  return { kind: 'user', id: user.id, organizationId: user.organizationId, roles: user.roles, ...extra };
}

/** The target of an action on something an organization owns. */
export const inOrganization = (organizationId: string): ResourceTarget => ({ kind: 'resource', organizationId });
