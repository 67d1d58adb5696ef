import type { AuditService } from '../../audit/audit.service.js';
import type { Principal, RequestContext } from '../../auth/principal.js';
import { newId, type PasswordHasher, randomToken } from '../../crypto/index.js';
import { AppError, assertThat } from '../../errors/index.js';
import type { Executor } from '../../storage/index.js';
import type { OrganizationsService } from '../organizations/organizations.service.js';
import { checkPassword, normalizePassword } from '../password-policy.js';
import { isRole } from '../permissions.js';
import { createSettingsRepo } from './settings.repo.js';
import {
  createUsersRepo,
  type User,
  type UserPatch,
  type UserState,
  type UsersRepo,
  type UserType,
  type WorkloadIdentityConfig,
} from './users.repo.js';

export interface CreateUserInput {
  userName: string;
  email?: string | undefined;
  phone?: string | undefined;
  password?: string | undefined;
  firstName?: string | undefined;
  lastName?: string | undefined;
  title?: string | undefined;
  department?: string | undefined;
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
}

export type UpdateUserInput = Partial<Omit<CreateUserInput, 'organizationId' | 'password' | 'profileSource'>> & {
  state?: UserState | undefined;
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
  'roles',
  'groups',
  'adSid',
  'externalId',
  'userType',
  'workloadIdentityConfig',
  'requireResetPassword',
  'emailVerified',
  'state',
] as const satisfies readonly (keyof UpdateUserInput)[];

/**
 * Why: the route schema allows extra keys, and a spread of the body would reach the UPDATE as
 * columns (`organizationId`, `passwordHash`, `mfaEnabled`…): only the documented fields pass.
 */
function pickUpdatable(input: UpdateUserInput): UpdateUserInput {
  const out: Record<string, unknown> = {};
  for (const key of UPDATABLE) if (input[key] !== undefined) out[key] = input[key];
  return out as UpdateUserInput;
}

/** Runs after a user is deactivated or deleted (sessions revoke theirs here). */
export type UserDeactivatedHook = (ctx: RequestContext, userId: string) => Promise<void>;

/** Runs after a password is set by an administrator or changed by its user (the MFA domain mails a notice). */
export type PasswordSetHook = (ctx: RequestContext | undefined, user: User, kind: 'admin_set' | 'changed') => Promise<void>;

export interface UsersDeps {
  db: Executor;
  repo: UsersRepo;
  organizations: OrganizationsService;
  hasher: PasswordHasher;
  audit: AuditService;
  /** Run inside the caller's flow after deactivation; registered by other domains at wiring time. */
  onDeactivated: UserDeactivatedHook[];
  /** Run after a password is set or changed; registered by other domains at wiring time. */
  onPasswordSet?: PasswordSetHook[];
}

/** Fields whose change is reported to the audit log by name (never by value). */
function changedFields(before: User, patch: UserPatch): string[] {
  return Object.entries(patch)
    .filter(([k, v]) => v !== undefined && JSON.stringify((before as unknown as Record<string, unknown>)[k]) !== JSON.stringify(v))
    .map(([k]) => k);
}

export function createUsersService(deps: UsersDeps) {
  const { repo, organizations, hasher, audit } = deps;

  /** Finds a user the caller may see: same organization (or superadmin); else not found. */
  async function visible(ctx: RequestContext, id: string): Promise<User> {
    const p = ctx.principal;
    if (!p) throw new AppError('auth.unauthenticated');
    const user = await repo.findById(id);
    if (!user || (!p.isSuperadmin && user.organizationId !== p.organizationId)) throw new AppError('resource.not_found');
    return user;
  }

  function checkRoles(p: Principal | undefined, roles: string[] | undefined): void {
    if (!roles) return;
    const bad = roles.filter((r) => !isRole(r));
    if (bad.length) throw new AppError('request.invalid', { details: ['body.roles'], detail: `unknown roles ${bad.join(',')}` });
    if (roles.includes('superadmin')) assertThat(p?.isSuperadmin, 'auth.forbidden', 'only a superadmin grants superadmin');
    if (roles.includes('owner')) assertThat(p?.isSuperadmin || p?.roles.includes('owner'), 'auth.forbidden', 'only an owner grants owner');
  }

  async function validateNewPassword(organizationId: string, password: string, user: { userName: string; email?: string | null }) {
    const policy = await organizations.policyOf(organizationId);
    const reasons = checkPassword(password, { minLength: policy.passwordMinLength, userName: user.userName, email: user.email ?? null });
    if (reasons.length) throw new AppError('password.policy_violation', { details: ['body.password'], detail: reasons.join(',') });
  }

  async function passwordWasSet(ctx: RequestContext | undefined, user: User, kind: 'admin_set' | 'changed'): Promise<void> {
    for (const hook of deps.onPasswordSet ?? []) await hook(ctx, user, kind);
  }

  return {
    repo,
    visible,
    validateNewPassword,
    passwordWasSet,
    /**
     * Creates a user. A SERVICE_ACCOUNT gets a generated service key (its password, returned
     * only here); a WORKLOAD_IDENTITY needs its `workloadIdentityConfig` and has no password.
     */
    async create(ctx: RequestContext | undefined, input: CreateUserInput, options: { bootstrap?: boolean } = {}) {
      const p = ctx?.principal;
      if (!options.bootstrap) {
        assertThat(p, 'auth.unauthenticated');
        assertThat(p.scopes.has('users:write'), 'auth.forbidden', 'missing scope users:write');
        checkRoles(p, input.roles);
      }
      const organizationId = input.organizationId ?? p?.organizationId;
      assertThat(organizationId, 'request.invalid', 'organization missing');
      if (input.organizationId && p && input.organizationId !== p.organizationId) {
        assertThat(p.isSuperadmin, 'auth.forbidden', 'only a superadmin creates users in another organization');
      }
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
        mobile: null,
        notes: null,
        customerId: null,
        roles: input.roles ?? ['member'],
        groups: input.groups ?? [],
        state: 'ACTIVE',
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
        createdAt: now,
        updatedAt: now,
      };
      await deps.db.transaction().execute(async (tx) => {
        await createUsersRepo(tx).insert(user);
        await createSettingsRepo(tx).insertDefaults(user.id);
        await audit.record(
          ctx,
          {
            action: 'user.created',
            organizationId,
            targetType: 'user',
            targetId: user.id,
            data: { userName, userType, roles: user.roles },
          },
          tx,
        );
      });
      return { user, serviceKey };
    },

    async list(
      ctx: RequestContext,
      filter: { userName?: string; email?: string; adSid?: string; externalId?: string; organizationId?: string },
      limit: number,
      after?: { createdAt: string; id: string },
    ) {
      const p = ctx.principal;
      assertThat(p, 'auth.unauthenticated');
      assertThat(p.scopes.has('users:read'), 'auth.forbidden', 'missing scope users:read');
      const organizationId = p.isSuperadmin && filter.organizationId ? filter.organizationId : p.organizationId;
      return repo.list({ ...filter, email: filter.email?.trim().toLowerCase(), organizationId, limit, ...(after ? { after } : {}) });
    },

    async get(ctx: RequestContext, id: string): Promise<User> {
      const user = await visible(ctx, id);
      const p = ctx.principal as Principal;
      if (user.id !== p.userId) assertThat(p.scopes.has('users:read'), 'auth.forbidden', 'missing scope users:read');
      return user;
    },

    async update(ctx: RequestContext, id: string, input: UpdateUserInput): Promise<User> {
      const before = await visible(ctx, id);
      const p = ctx.principal as Principal;
      assertThat(p.scopes.has('users:write'), 'auth.forbidden', 'missing scope users:write');
      checkRoles(p, input.roles);
      if (before.roles.includes('superadmin')) assertThat(p.isSuperadmin, 'auth.forbidden', 'only a superadmin edits a superadmin');
      if (input.workloadIdentityConfig && before.userType !== 'WORKLOAD_IDENTITY' && input.userType !== 'WORKLOAD_IDENTITY') {
        throw new AppError('request.invalid', { details: ['body.workloadIdentityConfig'] });
      }
      const patch: UserPatch = {
        ...pickUpdatable(input),
        ...(input.email !== undefined ? { email: input.email.trim().toLowerCase() } : {}),
        ...(input.userName !== undefined ? { userName: input.userName.trim() } : {}),
        updatedAt: ctx.now.toISOString(),
      };
      const changed = changedFields(before, patch).filter((f) => f !== 'updatedAt');
      await repo.updateById(id, patch);
      await audit.record(ctx, {
        action: 'user.updated',
        organizationId: before.organizationId,
        targetType: 'user',
        targetId: id,
        data: { changedFields: changed },
      });
      // Leaving ACTIVE (deleted, or suspended by a directory) ends sessions and keys.
      if (input.state && input.state !== 'ACTIVE' && before.state === 'ACTIVE') for (const hook of deps.onDeactivated) await hook(ctx, id);
      return (await repo.findById(id)) as User;
    },

    /** Soft delete: the user stays (state DELETED), cannot sign in, and loses sessions and keys. */
    async remove(ctx: RequestContext, id: string): Promise<void> {
      const before = await visible(ctx, id);
      const p = ctx.principal as Principal;
      assertThat(p.scopes.has('users:write'), 'auth.forbidden', 'missing scope users:write');
      assertThat(before.id !== p.userId, 'request.invalid', 'cannot delete yourself');
      if (before.roles.includes('superadmin')) assertThat(p.isSuperadmin, 'auth.forbidden');
      await repo.updateById(id, { state: 'DELETED', updatedAt: ctx.now.toISOString() });
      await audit.record(ctx, { action: 'user.deleted', organizationId: before.organizationId, targetType: 'user', targetId: id });
      for (const hook of deps.onDeactivated) await hook(ctx, id);
    },

    /**
     * Sets a password chosen by an administrator (admin API, seed 003, CLI). Policy-checked; the
     * user must change it at next sign-in when `mustChange` (or the organization's policy) says so.
     */
    async setPassword(
      ctx: RequestContext | undefined,
      user: User,
      password: string,
      options: { mustChange?: boolean | undefined; revokeSessions: boolean },
    ) {
      await validateNewPassword(user.organizationId, password, user);
      const policy = await organizations.policyOf(user.organizationId);
      const mustChange = options.mustChange ?? policy.mustChangePasswordOnAdminSet;
      const now = (ctx?.now ?? new Date()).toISOString();
      await repo.updateById(user.id, {
        passwordHash: await hasher.hash(normalizePassword(password)),
        passwordChangedAt: now,
        requireResetPassword: mustChange,
        updatedAt: now,
      });
      await audit.record(ctx, {
        action: 'user.password_set',
        organizationId: user.organizationId,
        targetType: 'user',
        targetId: user.id,
        data: { mustChangePassword: mustChange, revokedSessions: options.revokeSessions },
      });
      await passwordWasSet(ctx, user, 'admin_set');
      if (options.revokeSessions) for (const hook of deps.onDeactivated) await hook(ctx ?? systemContext(), user.id);
    },
  };
}
export type UsersService = ReturnType<typeof createUsersService>;

/** A context for work that no request started (CLI, bootstrap). */
export function systemContext(): RequestContext {
  return { principal: undefined, ip: 'local', requestId: 'system', userAgent: undefined, now: new Date() };
}
