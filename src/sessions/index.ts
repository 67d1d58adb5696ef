import type { FastifyPluginAsync } from 'fastify';
import type { AuditService } from '../audit/index.js';
import type { Config } from '../config/index.js';
import type { MasterKeyring, PasswordHasher } from '../crypto/index.js';
import type { EventBus } from '../events/index.js';
import type { CredentialVerifiers } from '../http/index.js';
import type { ApiKeysService, OrganizationsService, UsersService } from '../identity/index.js';
import type { Logger } from '../log/index.js';
import type { Storage } from '../storage/index.js';
import { type AccountSeams, createAccountService } from './account.service.js';
import { ownSessionRoutes } from './own-sessions.routes.js';
import { createSessionsRepo } from './sessions.repo.js';
import { authRoutes, sessionRoutes } from './sessions.routes.js';
import { createSessionsService, type LoginSeams } from './sessions.service.js';
import { createSigningKeyStore } from './signing-keys.js';
import type { LoginThrottle } from './throttle.js';
import { createTokenIssuer } from './tokens.js';

export type { AccountSeams, AccountService, AccountView, ProfileUpdateBody } from './account.service.js';
export { clearSessionCookies, setSessionCookies } from './cookies.js';
export type { SessionsRoutesDeps } from './sessions.routes.js';
export type { IssuedTokens, LoginInput, LoginResult, LoginSeams, SessionsService } from './sessions.service.js';
export { type SigningKeyStore, signingKeysSealedColumns } from './signing-keys.js';
export { accountKey, createLoginThrottle, identifierKey, type LoginThrottle } from './throttle.js';

/** How often an instance re-reads the signing keys even without a broadcast (no Redis, a missed message). */
const KEY_REFRESH_MS = 10_000;

export interface SessionsDomainDeps {
  storage: Pick<Storage, 'executor'>;
  config: Config;
  keyring: MasterKeyring;
  hasher: PasswordHasher;
  /** The sign-in throttle, shared with the MFA domain (wrong codes count toward the same back-off). */
  throttle: LoginThrottle;
  users: UsersService;
  organizations: OrganizationsService;
  apiKeys: ApiKeysService;
  audit: AuditService;
  events: EventBus;
  log: Logger;
  /** The MFA step and identity-provider sign-in of `POST /v1/auth/login` (the MFA and federation domains). */
  loginSteps: LoginSeams;
  /** Seed 002's MFA fields, extra profile fields and email changes of `POST /v1/auth/user` (the MFA domain). */
  accountExtensions: AccountSeams;
}

/**
 * The sessions domain: sign-in, tokens and refresh, logout that revokes on every instance, the
 * signed-in user's account (`/v1/auth/user`), and the token-signing keys. Built after the domains
 * whose sign-in steps it runs; it ends a user's sessions on `user.access_revoked` and on a reset.
 */
export async function createSessionsDomain(deps: SessionsDomainDeps) {
  const { config } = deps;
  const keys = createSigningKeyStore({
    db: deps.storage.executor,
    keyring: deps.keyring,
    accessTokenTtlSeconds: config.accessTokenTtlSeconds,
    announceRotation: (kid) => deps.events.broadcast('signing_keys.rotated', kid),
  });
  await keys.init();
  // A rotation anywhere (another instance, `portcullis keys rotate`) reaches this one through shared
  // state at once; without Redis (one process beside the CLI) the periodic reload covers it.
  const reloadKeys = (): void => {
    keys
      .reload()
      .catch((err: unknown) => deps.log.warn({ reason: err instanceof Error ? err.message : 'unknown' }, 'signing key reload failed'));
  };
  deps.events.onBroadcast('signing_keys.rotated', reloadKeys);
  const refresh = setInterval(reloadKeys, KEY_REFRESH_MS);
  refresh.unref();
  const sessions = createSessionsService({
    config,
    repo: createSessionsRepo(deps.storage.executor),
    users: deps.users,
    organizations: deps.organizations,
    hasher: deps.hasher,
    tokens: createTokenIssuer({
      keys,
      issuer: config.publicUrl,
      ttlSeconds: config.accessTokenTtlSeconds,
      audience: config.tokenAudience,
      clientId: config.tokenClientId,
    }),
    throttle: deps.throttle,
    events: deps.events,
    audit: deps.audit,
    seams: deps.loginSteps,
  });
  const account = createAccountService({ users: deps.users, apiKeys: deps.apiKeys, seams: deps.accountExtensions, events: deps.events });
  const routes: FastifyPluginAsync<{ verifiers: CredentialVerifiers }> = async (app, { verifiers }) => {
    const services = { config, sessions, account, keys, verifiers };
    await app.register(authRoutes, { services });
    await app.register(sessionRoutes, { services });
    await app.register(ownSessionRoutes, { services });
  };
  return {
    sessions,
    account,
    keys,
    routes,
    close(): void {
      clearInterval(refresh);
    },
  };
}
export type SessionsDomain = Awaited<ReturnType<typeof createSessionsDomain>>;
