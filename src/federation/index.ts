import type { FastifyPluginAsync } from 'fastify';
import type { AuditService } from '../audit/index.js';
import type { Config } from '../config/index.js';
import type { MasterKeyring } from '../crypto/index.js';
import type { UsersService } from '../identity/index.js';
import type { LoginSeams, SessionsService } from '../sessions/index.js';
import type { Storage } from '../storage/index.js';
import { createIdpsRepo } from './idps.repo.js';
import { createIdpsService } from './idps.service.js';
import { createGuardedFetch, DEFAULT_OUTBOUND, type GuardedFetch } from './outbound/guarded-fetch.js';
import { createProviderClients } from './provider-clients.js';
import { createWorkloadService } from './workload/workload.service.js';

export { federationSealedColumns } from './federation.sealed.js';
/** The SSRF-guarded outbound fetch, shared with every domain that calls administrator-configured URLs (webhooks). */
export {
  checkOutboundUrl,
  createGuardedFetch,
  type GuardedFetch,
  type GuardedFetchInit,
  OutboundError,
  type OutboundPolicy,
} from './outbound/guarded-fetch.js';

import { exchangeTokenRoutes, idpRoutes } from './idps.routes.js';

export type { IdpsService } from './idps.service.js';
export type { WorkloadService } from './workload/workload.service.js';

export interface FederationDeps {
  storage: Pick<Storage, 'executor'>;
  config: Config;
  keyring: MasterKeyring;
  users: UsersService;
  audit: AuditService;
  /** Tests may pass their own; by default the SSRF-guarded fetch under the configured policy. */
  fetch?: GuardedFetch;
}

/**
 * The federation domain, in two steps because sign-in runs both ways: first the identity providers
 * (configuration, code login, browser flow), whose login the sessions domain is built with; then,
 * given that sessions domain, workload identity exchange and the routes (`withSessions`).
 */
export function createFederationDomain(deps: FederationDeps) {
  const allowPrivateHosts = deps.config.idpAllowPrivateHosts;
  const fetch = deps.fetch ?? createGuardedFetch({ ...DEFAULT_OUTBOUND, allowPrivateHosts });
  const clients = createProviderClients({ fetch, allowPrivateHosts, redirectUri: `${deps.config.publicUrl}/oauth/callback` });
  const idps = createIdpsService({
    repo: createIdpsRepo(deps.storage.executor),
    users: deps.users,
    audit: deps.audit,
    keyring: deps.keyring,
    clients,
    config: deps.config,
  });
  return {
    idps,
    /** The `idpName` + `idpContext` step of `POST /v1/auth/login`. */
    loginStep: idps.login,
    /** Workload identity exchange and the federation routes, which issue sessions. */
    withSessions(sessions: SessionsService, loginSeams: LoginSeams) {
      const workload = createWorkloadService({ users: deps.users, sessions, audit: deps.audit, fetch, allowPrivateHosts });
      const services = { config: deps.config, idps, workload, sessions, loginSeams };
      const routes: FastifyPluginAsync = async (app) => {
        await app.register(idpRoutes, { services });
        await app.register(exchangeTokenRoutes, { services });
      };
      return { workload, routes };
    },
  };
}
