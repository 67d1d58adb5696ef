import type { AuditService } from '../audit/index.js';
import type { Config } from '../config/index.js';
import type { MasterKeyring } from '../crypto/index.js';
import type { UsersService } from '../identity/index.js';
import type { SessionsService } from '../sessions/index.js';
import type { Executor } from '../storage/index.js';
import { createIdpsRepo } from './idps.repo.js';
import { createIdpsService, type IdpsService } from './idps.service.js';
import { createGuardedFetch, DEFAULT_OUTBOUND, type GuardedFetch } from './outbound/guarded-fetch.js';
import { createProviderClients } from './provider-clients.js';
import { createWorkloadService, type WorkloadService } from './workload/workload.service.js';

export { federationSealedColumns } from './federation.sealed.js';
export { exchangeTokenRoutes, idpRoutes } from './idps.routes.js';
export type { IdpsService } from './idps.service.js';
export type { WorkloadService } from './workload/workload.service.js';

export interface FederationDeps {
  db: Executor;
  config: Config;
  keyring: MasterKeyring;
  users: UsersService;
  sessions: SessionsService;
  audit: AuditService;
  /** Tests may pass their own; by default the SSRF-guarded fetch under the configured policy. */
  fetch?: GuardedFetch;
}

/** Wires the federation domain: identity providers (code login, browser flow) and workload identity exchange. */
export function createFederation(deps: FederationDeps): { idps: IdpsService; workload: WorkloadService } {
  const allowPrivateHosts = deps.config.idpAllowPrivateHosts;
  const fetch = deps.fetch ?? createGuardedFetch({ ...DEFAULT_OUTBOUND, allowPrivateHosts });
  const clients = createProviderClients({ fetch, allowPrivateHosts, redirectUri: `${deps.config.publicUrl}/oauth/callback` });
  const idps = createIdpsService({
    repo: createIdpsRepo(deps.db),
    users: deps.users,
    audit: deps.audit,
    keyring: deps.keyring,
    clients,
    config: deps.config,
  });
  const workload = createWorkloadService({ users: deps.users, sessions: deps.sessions, audit: deps.audit, fetch, allowPrivateHosts });
  return { idps, workload };
}
