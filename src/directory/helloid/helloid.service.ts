import { authorize, inOrganization, type RequestContext, userTarget } from '../../auth/index.js';
import { AppError, assertThat } from '../../errors/index.js';
import type { UpdateUserInput, User, UserState, UsersService } from '../../identity/index.js';

/** HelloID's connectors match this text exactly. */
const USER_NOT_FOUND = 'User not found';

const GUID = /^\{?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\}?$/i;
const SID = /^[Ss]-1-\d+(-\d+)+$/;

export interface HelloIdDeps {
  users: UsersService;
  /** The sign-in back-off of an account (sessions domain): HelloID's `isLocked`. */
  lock: {
    isLocked(user: User): Promise<boolean>;
    unlock(user: User): Promise<void>;
  };
  /** The MFA domain's administrator reset. */
  resetMfa(ctx: RequestContext, user: User): Promise<void>;
}

export interface HelloIdCreateInput {
  userName: string;
  firstName?: string | undefined;
  lastName?: string | undefined;
  password?: string | undefined;
  isEnabled?: boolean | undefined;
  mustChangePassword?: boolean | undefined;
  source?: string | undefined;
  adsid?: string | undefined;
  contactEmail?: string | undefined;
  userAttributes?: Record<string, string> | undefined;
}

interface Identifier {
  UserName?: string | undefined;
  ImmutableId?: string | undefined;
  userName?: string | undefined;
  immutableId?: string | undefined;
}

export interface HelloIdUpdateInput {
  firstName?: string | undefined;
  lastName?: string | undefined;
  password?: string | undefined;
  isEnabled?: boolean | undefined;
  isLocked?: boolean | undefined;
  resetMFA?: boolean | undefined;
  mustChangePassword?: boolean | undefined;
  contactEmail?: string | undefined;
  userAttributes?: Record<string, string> | undefined;
  IdentifierObject?: Identifier | undefined;
  identifierObject?: Identifier | undefined;
}

/**
 * HelloID's (Tools4ever) user API over Portcullis's users: the same field names, defaults and
 * status codes, so that Tools4ever's provisioning connectors run unchanged. Users of another
 * organization do not exist here (404 "User not found"); every change goes through the users
 * service, which asks the policy.
 */
export function createHelloIdService(deps: HelloIdDeps) {
  const { users } = deps;
  const notFound = (detail: string) => new AppError('resource.not_found', { message: USER_NOT_FOUND, detail });

  /** Finds the user a path names: a GUID (id, then user name), a SID, a user name, or an immutableId. */
  async function locate(ctx: RequestContext, identifier: string, options: { deleted?: boolean } = {}): Promise<User> {
    const p = ctx.principal;
    assertThat(p, 'auth.unauthenticated');
    const org = p.organizationId;
    const ok = (u: User | undefined) => (u && u.organizationId === org && (options.deleted || u.state !== 'DELETED') ? u : undefined);
    const guid = GUID.exec(identifier)?.[1];
    let user = guid ? ok(await users.lookup.findById(guid.toLowerCase())) : undefined;
    if (!user && SID.test(identifier)) user = ok(await users.lookup.findByAdSid(org, `S${identifier.slice(1)}`));
    user ??= ok(await users.lookup.findByUserName(identifier));
    user ??= ok((await users.lookup.list({ organizationId: org, externalId: identifier, limit: 1 }))[0]);
    if (!user) throw notFound('no user with that name, id, SID or immutableId');
    authorize(p, 'user.read', userTarget(user));
    return user;
  }

  async function present(user: User) {
    return {
      userGUID: user.id,
      userName: user.userName,
      firstName: user.firstName,
      lastName: user.lastName,
      contactEmail: user.email,
      isEnabled: user.state === 'ACTIVE',
      isLocked: await deps.lock.isLocked(user),
      isDeleted: user.state === 'DELETED',
      mustChangePassword: user.requireResetPassword,
      source: user.profileSource,
      adsid: user.adSid,
      immutableId: user.externalId,
      lastLogin: user.lastLoginAt,
      userAttributes: user.userAttributes ?? {},
      links: [
        { title: 'self', location: `/api/v1/users/${user.id}` },
        { title: 'self', location: `/api/v1/users/${encodeURIComponent(user.userName)}` },
      ],
    };
  }

  /** HelloID answers a duplicate with a 400 validation error, not a 409. */
  async function asValidation<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof AppError && err.code === 'resource.conflict') {
        throw new AppError('request.invalid', { details: err.details, message: 'A user with these values already exists.', cause: err });
      }
      throw err;
    }
  }

  return {
    /** `GET /api/v1/users?enabled=&take=&skip=&isDeleted=`, in creation order. */
    async list(
      ctx: RequestContext,
      query: { enabled?: boolean | undefined; take?: number | undefined; skip?: number | undefined; isDeleted?: boolean | undefined },
    ) {
      const p = ctx.principal;
      assertThat(p, 'auth.unauthenticated');
      authorize(p, 'user.read', inOrganization(p.organizationId));
      const take = query.take ?? 100;
      if (take === 0) return [];
      let states: UserState[] = ['ACTIVE', 'SUSPENDED'];
      if (query.isDeleted) states = ['DELETED'];
      else if (query.enabled === true) states = ['ACTIVE'];
      else if (query.enabled === false) states = ['SUSPENDED'];
      const rows = await users.lookup.list({ organizationId: p.organizationId, states, limit: take, offset: query.skip ?? 0 });
      return Promise.all(rows.map(present));
    },

    async get(ctx: RequestContext, identifier: string) {
      return present(await locate(ctx, identifier));
    },

    /** `POST /api/v1/users`: `isEnabled` defaults to false, `source` to API. */
    async create(ctx: RequestContext, input: HelloIdCreateInput) {
      const { user } = await asValidation(() =>
        users.create(ctx, {
          userName: input.userName,
          firstName: input.firstName,
          lastName: input.lastName,
          password: input.password,
          email: input.contactEmail,
          adSid: input.adsid ? `S${input.adsid.slice(1)}` : undefined,
          requireResetPassword: input.mustChangePassword ?? false,
          state: input.isEnabled ? 'ACTIVE' : 'SUSPENDED',
          profileSource: input.source ?? 'API',
          userAttributes: input.userAttributes,
        }),
      );
      return present(user);
    },

    /**
     * `PUT /api/v1/users/{userName|userGUID|adsid|immutableId}`: the profile, state and identifier
     * object through one update; then the password (policy-checked, like seed 003), an MFA reset and
     * an unlock, each asked of the policy.
     */
    async update(ctx: RequestContext, identifier: string, input: HelloIdUpdateInput) {
      const user = await locate(ctx, identifier);
      const ident = input.IdentifierObject ?? input.identifierObject;
      const patch: UpdateUserInput = {
        firstName: input.firstName,
        lastName: input.lastName,
        email: input.contactEmail,
        userAttributes: input.userAttributes,
        userName: ident?.UserName ?? ident?.userName,
        externalId: ident?.ImmutableId ?? ident?.immutableId,
        ...(input.isEnabled !== undefined ? { state: input.isEnabled ? ('ACTIVE' as const) : ('SUSPENDED' as const) } : {}),
        ...(input.mustChangePassword !== undefined && input.password === undefined
          ? { requireResetPassword: input.mustChangePassword }
          : {}),
      };
      let updated = await asValidation(() => users.update(ctx, user.id, patch));
      if (input.password !== undefined) {
        if (updated.userType === 'WORKLOAD_IDENTITY') throw new AppError('request.invalid', { details: ['body.password'] });
        await users.setPassword(ctx, updated, input.password, { mustChange: input.mustChangePassword ?? false });
      }
      if (input.resetMFA) await deps.resetMfa(ctx, updated);
      if (input.isLocked === false) {
        authorize(ctx.principal, 'user.update', userTarget(updated));
        await deps.lock.unlock(updated);
      }
      updated = (await users.lookup.findById(user.id)) as User;
      return present(updated);
    },

    /** `DELETE /api/v1/users/{…}`: a soft delete (`isDeleted: true` afterwards); sessions and keys end. */
    async remove(ctx: RequestContext, identifier: string): Promise<void> {
      const user = await locate(ctx, identifier);
      await users.remove(ctx, user.id);
    },
  };
}
export type HelloIdService = ReturnType<typeof createHelloIdService>;
