import { authorize, type RequestContext, userTarget } from '../auth/index.js';
import { AppError, assertThat } from '../errors/index.js';
import type { OrganizationsService, User, UsersService } from '../identity/index.js';
import { checkPassword } from '../identity/index.js';

export interface DirectoryDeps {
  users: UsersService;
  organizations: OrganizationsService;
}

/** How seed 003 names the user: by user name or GUID (one path), or by Windows SID. */
export type UserLocator = { by: 'userNameOrGuid'; value: string } | { by: 'adSid'; value: string };

export interface SetCredentialsInput {
  userName: string;
  password: string;
  mustChangePassword?: boolean | undefined;
}

const GUID = /^\{?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\}?$/i;

/** HelloID's connectors match this text exactly. */
export const USER_NOT_FOUND_MESSAGE = 'User not found';

export function createDirectoryService(deps: DirectoryDeps) {
  const { users, organizations } = deps;

  const notFound = (detail: string) => new AppError('resource.not_found', { message: USER_NOT_FOUND_MESSAGE, detail });

  /** Only users of the caller's own organization exist for this API (a superadmin included). */
  const inOrg = (user: User | undefined, organizationId: string): User | undefined =>
    user && user.organizationId === organizationId && user.state !== 'DELETED' ? user : undefined;

  /**
   * Finds the user a seed 003 path names. A GUID-shaped value is tried as an id first, then as a
   * user name (a user name may itself look like a GUID).
   */
  async function locate(organizationId: string, locator: UserLocator): Promise<User> {
    if (locator.by === 'adSid') {
      const sid = `S${locator.value.slice(1)}`;
      const bySid = inOrg(await users.lookup.findByAdSid(organizationId, sid), organizationId);
      if (!bySid) throw notFound('no user with that SID');
      return bySid;
    }
    const guid = GUID.exec(locator.value)?.[1];
    const byId = guid ? inOrg(await users.lookup.findById(guid.toLowerCase()), organizationId) : undefined;
    const user = byId ?? inOrg(await users.lookup.findByUserName(locator.value), organizationId);
    if (!user) throw notFound('no user with that name or id');
    return user;
  }

  /** Lists every reason the organization's policy refuses the password, before anything changes. */
  async function checkPolicy(user: User, password: string): Promise<void> {
    const policy = await organizations.policyOf(user.organizationId);
    const reasons = checkPassword(password, { minLength: policy.passwordMinLength, userName: user.userName, email: user.email });
    if (reasons.length) {
      throw new AppError('password.policy_violation', {
        details: reasons.map((r) => `body.password: ${r}`),
        detail: reasons.join(','),
      });
    }
  }

  return {
    /**
     * Seed 003 `addUserCredentials`: an administrator's key sets a user's password. Refusals
     * (unknown user, name mismatch, policy) change nothing. Goes through `users.setPassword`,
     * like the CLI's `admin set-password`.
     */
    async setCredentials(ctx: RequestContext, locator: UserLocator, input: SetCredentialsInput) {
      const p = ctx.principal;
      assertThat(p, 'auth.unauthenticated');
      const user = await locate(p.organizationId, locator);
      // Asked before anything about the password is said: a key cannot learn the policy of an account it may not touch.
      authorize(p, 'user.set_password', userTarget(user));
      if (input.userName.trim().toLowerCase() !== user.userName.toLowerCase()) {
        throw new AppError('request.invalid', { details: ['body.userName'], detail: 'body userName names another user than the path' });
      }
      assertThat(user.userType !== 'WORKLOAD_IDENTITY', 'request.invalid', 'workload identities have no password');
      await checkPolicy(user, input.password);
      await users.setPassword(ctx, user, input.password, { mustChange: input.mustChangePassword });
      const updated = (await users.lookup.findById(user.id)) as User;
      // The user is told by mail through the users service's password-set hook (MFA/email domain).
      return {
        success: true as const,
        code: 0 as const,
        message: 'The credentials were updated.',
        userGUID: updated.id,
        userName: updated.userName,
        mustChangePassword: updated.requireResetPassword,
      };
    },
  };
}
export type DirectoryService = ReturnType<typeof createDirectoryService>;
