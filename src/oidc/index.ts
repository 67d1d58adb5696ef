import type { FastifyPluginAsync } from 'fastify';
import type { AuditService } from '../audit/index.js';
import type { Config } from '../config/index.js';
import type { CredentialVerifiers } from '../http/index.js';
import type { UsersService } from '../identity/index.js';
import type { Logger } from '../log/index.js';
import type { SessionsService, SigningKeyStore } from '../sessions/index.js';
import { createRateLimit, type SharedState } from '../state/index.js';
import type { Storage } from '../storage/index.js';
import { createClientsRepo, createConsentsRepo } from './clients.repo.js';
import { createClientsService } from './clients.service.js';
import { loadOidcProvider } from './load.js';
import { clientsRoutes, interactionRoutes, providerRoutes } from './oidc.routes.js';
import { createProviderHolder } from './provider.js';

export type { ClientsService, CreateClientInput } from './clients.service.js';
export { OIDC_ROUTES } from './provider.js';

export interface OidcDomainDeps {
  storage: Pick<Storage, 'executor'>;
  config: Config;
  keys: SigningKeyStore;
  users: UsersService;
  sessions: SessionsService;
  audit: AuditService;
  state: SharedState;
  log: Logger;
  verifiers: () => CredentialVerifiers;
}

/**
 * Portcullis as an OpenID Provider (panva/oidc-provider): its endpoints, the interaction pages, the
 * OAuth clients API and people's consents. Codes, tokens, grants and sessions live in our storage, so
 * every instance on one database serves the same provider; ID tokens are signed with our keys.
 */
export async function createOidcDomain(deps: OidcDomainDeps) {
  const { config } = deps;
  const repo = createClientsRepo(deps.storage.executor);
  const consents = createConsentsRepo(deps.storage.executor);
  const holder = createProviderHolder({
    oidcProvider: await loadOidcProvider(),
    config,
    db: deps.storage.executor,
    keys: deps.keys,
    clients: repo,
    consents,
    users: deps.users,
    audit: deps.audit,
    log: deps.log,
    async endPortcullisSession(refreshToken) {
      if (!refreshToken) return;
      await deps.sessions.logout(
        { principal: undefined, ip: '', requestId: 'oidc-logout', userAgent: undefined, now: new Date() },
        { refreshToken },
      );
    },
  });
  const clients = createClientsService({
    repo,
    consents,
    audit: deps.audit,
    validate: (metadata) => holder.validate(metadata),
    revokeGrant: (grantId) => holder.revokeGrant(grantId),
    defaultAccessTokenTtl: config.accessTokenTtlSeconds,
  });
  const tokenLimit =
    config.oidcTokenRatePerClient > 0
      ? createRateLimit(deps.state, { name: 'oauth_token', points: config.oidcTokenRatePerClient, windowSeconds: 60 })
      : undefined;
  const services = {
    config,
    holder,
    clients,
    consents,
    sessions: deps.sessions,
    audit: deps.audit,
    verifiers: deps.verifiers,
    tokenLimit,
  };
  const routes: FastifyPluginAsync = async (app) => {
    await app.register(providerRoutes, { services });
    await app.register(interactionRoutes, { services });
    await app.register(clientsRoutes, { services });
  };
  return {
    clients,
    /** The oidc-provider instance for the keys in force (tests and the CLI reach it here). */
    provider: () => holder.current().provider,
    routes,
  };
}
export type OidcDomain = Awaited<ReturnType<typeof createOidcDomain>>;
