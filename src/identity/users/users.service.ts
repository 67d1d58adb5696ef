import type { AuditService } from '../../audit/index.js';
import { authorize, isRole, type RequestContext, rankOf, userTarget } from '../../auth/index.js';
import { newId, type PasswordHasher, randomToken } from '../../crypto/index.js';
import { AppError, assertThat } from '../../errors/index.js';
import type { EventBus, RevocationReason } from '../../events/index.js';
import { ownProps } from '../../http/index.js';
import { UniqueViolation } from '../../storage/index.js';
import type { OrganizationsService } from '../organizations/organizations.service.js';
import { checkPassword, normalizePassword } from '../password-policy.js';
import type { SettingsRepo, UserSetting } from './settings.repo.js';
import { type ImportedUser, type ImportOptions, importUserBatch } from './users.import.js';
import type { User, UserPatch, UserState, UsersRepo, UserType, WorkloadIdentityConfig } from './users.repo.js';

export interface CreateUserInput {
  userName: string;
  email?: string | undefined;
  phone?: string | undefined;
  password?: string | undefined;
  firstName?: string | undefined;
  lastName?: string | undefined;
  title?: string | undefined;
  department?: string | undefined;
  mobile?: string | undefined;
  roles?: string[] | undefined;
  groups?: string[] | undefined;
  adSid?: string | undefined;
  externalId?: string | undefined;
  userType?: UserType | undefined;
  workloadIdentityConfig?: WorkloadIdentityConfig | undefined;
  organizationId?: string | undefined;
  requireResetPassword?: boolean | undefined;
  profileSource?: string | undefined;
  emailVerified?: boolean | undefined;
  /** Created suspended (SCIM `active: false`). */
  state?: UserState | undefined;
  /** HelloID's custom attributes. */
  userAttributes?: Record<string, string> | undefined;
}

/** Nullable profile columns an administrator (or a directory) may set or clear. */
type Clearable = 'email' | 'phone' | 'firstName' | 'lastName' | 'title' | 'department' | 'mobile' | 'externalId' | 'adSid';

export type UpdateUserInput = {
  [K in Clearable]?: string | null | undefined;
} & {
  userName?: string | undefined;
  roles?: string[] | undefined;
  groups?: string[] | undefined;
  userType?: UserType | undefined;
  workloadIdentityConfig?: WorkloadIdentityConfig | undefined;
  requireResetPassword?: boolean | undefined;
  state?: UserState | undefined;
  profileSource?: string | null | undefined;
  userAttributes?: Record<string, string> | null | undefined;
};

/** The fields `update` writes; anything else in the input (unknown or internal keys) is ignored. */
const UPDATABLE = [
  'userName',
  'email',
  'phone',
  'firstName',
  'lastName',
  'title',
  'department',
  'mobile',
  'roles',
  'groups',
  'adSid',
  'externalId',
  'userType',
  'workloadIdentityConfig',
  'requireResetPassword',
  'state',
  'profileSource',
  'userAttributes',
] as const satisfies readonly (keyof UpdateUserInput)[];

/**
 * Why: the route schema allows extra keys, and a spread of the body would reach the UPDATE as
 * columns (`organizationId`, `passwordHash`, `mfaEnabled`…): only the documented, own fields pass.
 */
function pickUpdatable(input: UpdateUserInput): UserPatch {
  const out: Record<string, unknown> = {};
  for (const key of UPDATABLE) if (Object.hasOwn(input, key) && input[key] !== undefined) out[key] = input[key];
  return out as UserPatch;
}

export interface UsersDeps {
  /** Built on `storage.executor`, so that it joins `transaction`. */
  repo: UsersRepo;
  /** Seed 001's per-user settings (the same executor). */
  settings: SettingsRepo;
  /**
   * Runs `fn` in one transaction that every repo built on the executor joins; inside a caller's
   * transaction (a SCIM request) it joins that one (`storage.transaction`).
   */
  transaction: <T>(fn: () => Promise<T>) => Promise<T>;
  organizations: OrganizationsService;
  hasher: PasswordHasher;
  audit: AuditService;
  /** Publishes `user.access_revoked` (sessions and API keys end) and `user.password_set` (the MFA domain mails a notice). */
  events: EventBus;
  /** An administrator's password set also ends the user's sessions and API keys (`PORTCULLIS_REVOKE_SESSIONS_ON_PASSWORD_SET`). */
  revokeOnPasswordSet: boolean;
}

/** Fields whose change is reported to the audit log by name (never by value). */
function changedFields(before: User, patch: UserPatch): string[] {
  return Object.entries(patch)
    .filter(
      ([k, v]) =>
        k !== 'updatedAt' && v !== undefined && JSON.stringify((before as unknown as Record<string, unknown>)[k]) !== JSON.stringify(v),
    )
    .map(([k]) => k);
}

/** Which request field a unique violation on the users table names, for the 409's `details`. */
function conflictField(constraint: string): string {
  if (/email/.test(constraint)) return 'body.email';
  if (/ad_sid/.test(constraint)) return 'body.adSid';
  if (/external_id/.test(constraint)) return 'body.externalId';
  return 'body.userName';
}

/** Runs a write of unique fields: another account's user name, email, SID or external id is a 409 naming the field. */
async function conflictsAsField<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (err instanceof UniqueViolation) {
      throw new AppError('resource.conflict', { details: [conflictField(err.constraint)], detail: 'user exists', cause: err });
    }
    throw err;
  }
}

const sameRoles = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((r) => b.includes(r));

function checkRoleNames(roles: readonly string[] | undefined): void {
  if (!roles) return;
  const bad = roles.filter((r) => !isRole(r));
  if (bad.length) throw new AppError('request.invalid', { details: ['body.roles'], detail: `unknown roles ${bad.join(',')}` });
}

/** Read-only lookups other domains use; writes go through the service's named methods. */
export interface UsersLookup {
  findById: UsersRepo['findById'];
  findByUserName: UsersRepo['findByUserName'];
  findByEmail: UsersRepo['findByEmail'];
  findByAdSid: UsersRepo['findByAdSid'];
  /** Several users in one read (absent ids are left out). */
  findByIds: UsersRepo['findByIds'];
  list: UsersRepo['list'];
  /** How many users a list's criteria cover (its `totalResults`). */
  countMatching: UsersRepo['countMatching'];
  count: UsersRepo['count'];
}

/**
 * The only writer of the users table. Every change an actor makes to an account asks the policy
 * (`auth/policy.ts`) first; deactivation, demotion and an administrator's password set end the
 * user's sessions and API keys on every instance.
 */
export function createUsersService(deps: UsersDeps) {
  const { repo, organizations, hasher, audit } = deps;
  const { settings } = deps;
  const lookup: UsersLookup = {
    findById: repo.findById,
    findByUserName: repo.findByUserName,
    findByEmail: repo.findByEmail,
    findByAdSid: repo.findByAdSid,
    findByIds: repo.findByIds,
    list: repo.list,
    countMatching: repo.countMatching,
    count: repo.count,
  };

  /** Finds a user the caller may see: same organization (or superadmin); else not found. */
  async function visible(ctx: RequestContext, id: string): Promise<User> {
    assertThat(ctx.principal, 'auth.unauthenticated');
    const user = await repo.findById(id);
    if (!user) throw new AppError('resource.not_found');
    return user;
  }

  async function validateNewPassword(organizationId: string, password: string, user: { userName: string; email?: string | null }) {
    const policy = await organizations.policyOf(organizationId);
    const reasons = checkPassword(password, { minLength: policy.passwordMinLength, userName: user.userName, email: user.email ?? null });
    if (reasons.length) throw new AppError('password.policy_violation', { details: ['body.password'], detail: reasons.join(',') });
  }

  const passwordWasSet = (ctx: RequestContext | undefined, user: User, kind: 'admin_set' | 'changed' | 'reset'): Promise<void> =>
    deps.events.emit('user.password_set', { ctx, userId: user.id, kind });

  const revoke = (ctx: RequestContext, userId: string, reason: RevocationReason): Promise<void> =>
    deps.events.emit('user.access_revoked', { ctx, userId, reason });

  /** True when `user` is an active owner and no other active owner of its organization remains. */
  async function isLastOwner(user: User): Promise<boolean> {
    if (!user.roles.includes('owner') || user.state !== 'ACTIVE') return false;
    return (await repo.countActiveWithRole(user.organizationId, 'owner')) <= 1;
  }

  /** Inserts a user with its default settings and the audit record, in one transaction. */
  async function insert(ctx: RequestContext | undefined, input: CreateUserInput, organizationId: string) {
    const org = await organizations.findById(organizationId);
    if (!org) throw new AppError('resource.not_found', { details: ['body.organizationId'] });
    const userType = input.userType ?? 'USER';
    const email = input.email?.trim().toLowerCase();
    if (userType !== 'USER') assertThat(email, 'request.invalid', 'email required');
    if (userType === 'WORKLOAD_IDENTITY') {
      if (!input.workloadIdentityConfig) throw new AppError('request.invalid', { details: ['body.workloadIdentityConfig'] });
      if (input.password)
        throw new AppError('request.invalid', { details: ['body.password'], detail: 'workload identities have no password' });
    } else if (input.workloadIdentityConfig) {
      throw new AppError('request.invalid', { details: ['body.workloadIdentityConfig'], detail: 'only for WORKLOAD_IDENTITY' });
    }
    const userName = input.userName.trim();
    assertThat(userName.length > 0, 'request.invalid', 'empty user name');
    let serviceKey: string | undefined;
    let password = input.password;
    if (userType === 'SERVICE_ACCOUNT') {
      serviceKey = `pss_${randomToken(32)}`;
      password = serviceKey;
    } else if (password !== undefined) {
      await validateNewPassword(organizationId, password, { userName, email: email ?? null });
    }
    const now = (ctx?.now ?? new Date()).toISOString();
    const passwordHash = password === undefined ? null : await hasher.hash(normalizePassword(password));
    const user: User = {
      id: newId(),
      organizationId,
      userName,
      email: email ?? null,
      phone: input.phone ?? null,
      title: input.title ?? null,
      firstName: input.firstName ?? null,
      lastName: input.lastName ?? null,
      department: input.department ?? null,
      birthDate: null,
      lastDismissMessages: null,
      rank: null,
      image: null,
      address: null,
      postalCode: null,
      region: null,
      city: null,
      country: null,
      countryCode: null,
      mobile: input.mobile ?? null,
      notes: null,
      customerId: null,
      roles: input.roles ?? ['member'],
      groups: input.groups ?? [],
      state: input.state ?? 'ACTIVE',
      userType,
      adSid: input.adSid ?? null,
      externalId: input.externalId ?? null,
      workloadIdentityConfig: input.workloadIdentityConfig ?? null,
      passwordHash,
      passwordChangedAt: passwordHash ? now : null,
      requireResetPassword: input.requireResetPassword ?? false,
      emailVerified: input.emailVerified ?? false,
      mfaEnabled: false,
      lastLoginAt: null,
      profileSource: input.profileSource ?? null,
      userAttributes: input.userAttributes ?? null,
      createdAt: now,
      updatedAt: now,
    };
    // Why the ambient transaction and not one of its own: inside a caller's transaction (a SCIM
    // create) a second one would wait for the only SQLite connection, which the first one holds.
    await deps.transaction(async () => {
      await conflictsAsField(() => repo.insert(user));
      await settings.insertDefaults(user.id);
      await audit.record(ctx, {
        action: 'user.created',
        organizationId,
        targetType: 'user',
        targetId: user.id,
        data: { userName, userType, roles: user.roles, ...(user.state !== 'ACTIVE' ? { state: user.state } : {}) },
      });
    });
    return { user, serviceKey };
  }

  return {
    lookup,
    visible,
    validateNewPassword,

    /**
     * An administrator creates a user (admin API, SCIM, CLI). A SERVICE_ACCOUNT gets a generated
     * service key (its password, returned only here); a WORKLOAD_IDENTITY needs its
     * `workloadIdentityConfig` and has no password. Nobody grants a rank above their own.
     */
    async create(ctx: RequestContext, body: CreateUserInput) {
      // Why: absent fields carry meaning (`roles ?? ['member']`); only what the caller set is read.
      const input = ownProps(body);
      const p = ctx.principal;
      assertThat(p, 'auth.unauthenticated');
      checkRoleNames(input.roles);
      const organizationId = input.organizationId ?? p.organizationId;
      authorize(p, 'user.create', { kind: 'user', id: '', organizationId, roles: [], grantRoles: input.roles ?? ['member'] });
      return insert(ctx, input, organizationId);
    },

    /**
     * A user no request asked for: the first superadmin at bootstrap, or a member provisioned on
     * a first sign-in through an identity provider. Never reachable with request-chosen roles.
     */
    async provision(
      ctx: RequestContext | undefined,
      input: CreateUserInput & { organizationId: string },
      origin: 'bootstrap' | 'identity_provider',
    ) {
      const roles = origin === 'bootstrap' ? ['superadmin', 'owner'] : ['member'];
      return insert(ctx, { ...ownProps(input), roles }, input.organizationId);
    },

    async list(
      ctx: RequestContext,
      query: { userName?: string; email?: string; adSid?: string; externalId?: string; organizationId?: string },
      limit: number,
      after?: { createdAt: string; id: string },
    ) {
      const filter = ownProps(query);
      const p = ctx.principal;
      assertThat(p, 'auth.unauthenticated');
      // Only a superadmin looks into another organization; for anyone else the filter names their own.
      const organizationId = p.isSuperadmin && filter.organizationId ? filter.organizationId : p.organizationId;
      authorize(p, 'user.read', { kind: 'resource', organizationId });
      return repo.list({ ...filter, email: filter.email?.trim().toLowerCase(), organizationId, limit, ...(after ? { after } : {}) });
    },

    async get(ctx: RequestContext, id: string): Promise<User> {
      const user = await visible(ctx, id);
      authorize(ctx.principal, 'user.read', userTarget(user));
      return user;
    },

    /**
     * An administrator (or a directory) changes another account. Each kind of change is its own
     * action for the policy: profile, email, roles (with the ranks granted), state. Leaving ACTIVE
     * or losing rank ends the user's sessions and API keys.
     */
    async update(ctx: RequestContext, id: string, body: UpdateUserInput): Promise<User> {
      const input = ownProps(body);
      const before = await visible(ctx, id);
      const p = ctx.principal;
      checkRoleNames(input.roles);
      const patch = pickUpdatable(input);
      if (typeof patch.email === 'string') patch.email = patch.email.trim().toLowerCase();
      if (typeof patch.userName === 'string') patch.userName = patch.userName.trim();
      if (patch.roles && sameRoles(patch.roles, before.roles)) delete patch.roles;
      if (patch.state === before.state) delete patch.state;
      if (patch.email !== undefined && patch.email !== before.email) patch.emailVerified = false;
      else delete patch.email;
      const losesOwnership =
        before.roles.includes('owner') &&
        ((patch.roles !== undefined && !patch.roles.includes('owner')) || (patch.state !== undefined && patch.state !== 'ACTIVE'));
      const target = userTarget(before, {
        ...(patch.roles ? { grantRoles: patch.roles } : {}),
        isLastOwner: losesOwnership && (await isLastOwner(before)),
      });
      authorize(p, 'user.update', target);
      if (patch.email !== undefined) authorize(p, 'user.change_email', target);
      if (patch.roles) authorize(p, 'user.change_roles', target);
      if (patch.state) authorize(p, 'user.change_state', target);
      if (input.workloadIdentityConfig && before.userType !== 'WORKLOAD_IDENTITY' && input.userType !== 'WORKLOAD_IDENTITY') {
        throw new AppError('request.invalid', { details: ['body.workloadIdentityConfig'] });
      }
      const changed = changedFields(before, patch);
      if (changed.length === 0) return before;
      await conflictsAsField(() => repo.updateById(id, { ...patch, updatedAt: ctx.now.toISOString() }));
      await audit.record(ctx, {
        action: 'user.updated',
        organizationId: before.organizationId,
        targetType: 'user',
        targetId: id,
        data: { changedFields: changed },
      });
      if (patch.state && patch.state !== 'ACTIVE' && before.state === 'ACTIVE') await revoke(ctx, id, 'user_deactivated');
      else if (patch.roles && rankOf(patch.roles) < rankOf(before.roles)) await revoke(ctx, id, 'user_demoted');
      return (await repo.findById(id)) as User;
    },

    /** Soft delete: the user stays (state DELETED), cannot sign in, and loses sessions and API keys. */
    async remove(ctx: RequestContext, id: string): Promise<void> {
      const before = await visible(ctx, id);
      authorize(ctx.principal, 'user.delete', userTarget(before, { isLastOwner: await isLastOwner(before) }));
      await repo.updateById(id, { state: 'DELETED', updatedAt: ctx.now.toISOString() });
      await audit.record(ctx, { action: 'user.deleted', organizationId: before.organizationId, targetType: 'user', targetId: id });
      await revoke(ctx, id, 'user_deactivated');
    },

    /** A directory keeps a member's group names in step with its groups (groups carry no privilege here). */
    async setGroups(ctx: RequestContext, user: User, groups: string[]): Promise<void> {
      authorize(ctx.principal, 'user.set_groups', userTarget(user));
      if (JSON.stringify(groups) === JSON.stringify(user.groups)) return;
      await repo.updateById(user.id, { groups, updatedAt: ctx.now.toISOString() });
    },

    /**
     * Sets a password chosen by an administrator (admin API, seed 003, CLI). Policy-checked; the
     * user must change it at next sign-in when `mustChange` (or the organization's policy) says so.
     */
    async setPassword(
      ctx: RequestContext,
      user: User,
      password: string,
      given: { mustChange?: boolean | undefined; revokeAccess?: boolean | undefined } = {},
    ) {
      const options = ownProps(given);
      authorize(ctx.principal, 'user.set_password', userTarget(user));
      assertThat(user.userType !== 'WORKLOAD_IDENTITY', 'request.invalid', 'workload identities have no password');
      await validateNewPassword(user.organizationId, password, user);
      const policy = await organizations.policyOf(user.organizationId);
      const mustChange = options.mustChange ?? policy.mustChangePasswordOnAdminSet;
      const revokeAccess = options.revokeAccess ?? deps.revokeOnPasswordSet;
      const now = ctx.now.toISOString();
      await repo.updateById(user.id, {
        passwordHash: await hasher.hash(normalizePassword(password)),
        passwordChangedAt: now,
        requireResetPassword: mustChange,
        updatedAt: now,
      });
      await audit.recordFor(ctx, user, {
        action: 'user.password_set',
        data: { mustChangePassword: mustChange, revokedSessions: revokeAccess },
      });
      await passwordWasSet(ctx, user, 'admin_set');
      if (revokeAccess) await revoke(ctx, user.id, 'password_set');
    },

    /** The signed-in user's new password, after the sessions domain checked the current one. */
    async changeOwnPassword(ctx: RequestContext, user: User, newPassword: string): Promise<User> {
      authorize(ctx.principal, 'self.change_password', userTarget(user));
      const now = ctx.now.toISOString();
      await repo.updateById(user.id, {
        passwordHash: await hasher.hash(normalizePassword(newPassword)),
        passwordChangedAt: now,
        requireResetPassword: false,
        updatedAt: now,
      });
      const fresh = (await repo.findById(user.id)) as User;
      await passwordWasSet(ctx, fresh, 'changed');
      return fresh;
    },

    /**
     * A password set with a mailed reset token (the token, checked by the email flow, is the
     * authority). The address the token reached is verified by it.
     */
    async resetPassword(ctx: RequestContext, user: User, newPassword: string, mailedTo: string): Promise<void> {
      const now = ctx.now.toISOString();
      await repo.updateById(user.id, {
        passwordHash: await hasher.hash(normalizePassword(newPassword)),
        passwordChangedAt: now,
        requireResetPassword: false,
        ...(user.email === mailedTo ? { emailVerified: true } : {}),
        updatedAt: now,
      });
      await passwordWasSet(ctx, user, 'reset');
    },

    /** The signed-in user's own profile fields (never email, roles, state or credentials). */
    async updateOwnProfile(
      ctx: RequestContext,
      user: User,
      patch: UserPatch,
      settingChanges: readonly { id: number; value: string }[],
    ): Promise<void> {
      authorize(ctx.principal, 'self.update_profile', userTarget(user));
      assertThat(patch.email === undefined, 'auth.forbidden', 'email changes go through verification');
      const changed = changedFields(user, patch);
      if (!changed.length && !settingChanges.length) return;
      await deps.transaction(async () => {
        if (changed.length) await repo.updateById(user.id, { ...patch, updatedAt: ctx.now.toISOString() });
        for (const c of settingChanges) await settings.updateValue(c.id, user.id, c.value);
        await audit.recordFor(ctx, user, {
          action: 'user.profile_updated',
          data: { changedFields: [...changed, ...settingChanges.map((c) => `settings.${c.id}`)] },
        });
      });
    },

    /**
     * A mailed code proved control of `email`: it becomes the user's verified address (an email
     * change takes effect here). A conflict with another account's address is a 409.
     */
    async confirmEmail(ctx: RequestContext, user: User, email: string): Promise<void> {
      const changes = user.email !== email;
      await conflictsAsField(() => repo.updateById(user.id, { email, emailVerified: true, updatedAt: ctx.now.toISOString() }));
      await audit.recordFor(ctx, user, {
        action: changes ? 'user.email_changed' : 'user.email_verified',
        actor: { type: 'user', id: user.id },
      });
    },

    /** The user's own MFA switch (`self.manage_mfa`), or an administrator's reset (`user.reset_mfa`, off only). */
    async setMfaEnabled(ctx: RequestContext, user: User, enabled: boolean, as: 'self' | 'administrator' = 'self'): Promise<void> {
      authorize(ctx.principal, as === 'self' || enabled ? 'self.manage_mfa' : 'user.reset_mfa', userTarget(user));
      await repo.updateById(user.id, { mfaEnabled: enabled, updatedAt: ctx.now.toISOString() });
    },

    /** A successful sign-in (password, MFA step, identity provider, workload token). */
    async recordLogin(userId: string, at: string): Promise<void> {
      await repo.updateById(userId, { lastLoginAt: at });
    },

    /** A correct password hashed with old parameters, re-hashed with the current ones (no policy: the user just proved it). */
    async upgradePasswordHash(userId: string, password: string): Promise<void> {
      await repo.updateById(userId, { passwordHash: await hasher.hash(normalizePassword(password)) });
    },

    /**
     * One batch of an import (issue 20): creates or updates users by external id, user name or
     * email, with their imported password hashes. Per-line refusals come back as errors.
     */
    importBatch: (ctx: RequestContext, organizationId: string, records: readonly ImportedUser[], options?: ImportOptions) =>
      importUserBatch({ repo, settings, transaction: deps.transaction, audit, events: deps.events }, ctx, organizationId, records, options),

    /** Seed 001's `settings` of a user. */
    settingsOf: (userId: string): Promise<UserSetting[]> => settings.listForUser(userId),
  };
}
export type UsersService = ReturnType<typeof createUsersService>;

/** A context for work that no request started (CLI, bootstrap). */
export function systemContext(): RequestContext {
  return { principal: undefined, ip: 'local', requestId: 'system', userAgent: undefined, now: new Date() };
}
