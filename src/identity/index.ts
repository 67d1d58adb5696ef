import type { FastifyPluginAsync } from 'fastify';
import type { AuditService } from '../audit/index.js';
import type { Config } from '../config/index.js';
import type { PasswordHasher } from '../crypto/index.js';
import type { EventBus } from '../events/index.js';
import type { Logger } from '../log/index.js';
import type { Storage } from '../storage/index.js';
import { createApiKeysRepo } from './api-keys/api-keys.repo.js';
import { createApiKeysService } from './api-keys/api-keys.service.js';
import { bootstrap } from './bootstrap.js';
import { identityRoutes } from './identity.routes.js';
import { brandingRoutes, createBrandingService } from './organizations/branding.js';
import { createOrganizationsRepo } from './organizations/organizations.repo.js';
import { createOrganizationsService } from './organizations/organizations.service.js';
import { preloadPasswordBlocklist } from './password-policy.js';
import { createSettingsRepo } from './users/settings.repo.js';
import { createUsersRepo } from './users/users.repo.js';
import { createUsersService } from './users/users.service.js';

export type { ApiKey } from './api-keys/api-keys.repo.js';
export type { ApiKeysService, CreateApiKeyInput } from './api-keys/api-keys.service.js';
export { DEFAULT_ORGANIZATION } from './bootstrap.js';
export { UserSchema } from './identity.schemas.js';
export type { Branding, BrandingService } from './organizations/branding.js';
export { DEFAULT_POLICY, type Organization, type OrganizationPolicy } from './organizations/organization-policy.js';
export type { OrganizationsService } from './organizations/organizations.service.js';
export { checkPassword, normalizePassword } from './password-policy.js';
export type { UserSetting } from './users/settings.repo.js';
export type { ImportBatchResult, ImportedUser, ImportLineError, ImportOptions } from './users/users.import.js';
export { presentApiKey, presentUser } from './users/users.present.js';
export {
  PROFILE_FIELDS,
  type User,
  type UserCriteria,
  type UserPatch,
  type UserState,
  type UserType,
  type WorkloadIdentityConfig,
} from './users/users.repo.js';
export { type CreateUserInput, systemContext, type UpdateUserInput, type UsersLookup, type UsersService } from './users/users.service.js';

export interface IdentityDomainDeps {
  storage: Pick<Storage, 'executor' | 'transaction'>;
  config: Config;
  hasher: PasswordHasher;
  audit: AuditService;
  events: EventBus;
  log: Logger;
}

/**
 * The identity domain: organizations, users (the only writer of the users table) and API keys.
 * Its services ask the authorization policy; its users service publishes `user.access_revoked` and
 * `user.password_set`, and its API key service ends a user's keys on `user.access_revoked`.
 */
export function createIdentityDomain(deps: IdentityDomainDeps) {
  const db = deps.storage.executor;
  preloadPasswordBlocklist();
  const organizations = createOrganizationsService({ repo: createOrganizationsRepo(db), audit: deps.audit });
  const users = createUsersService({
    transaction: deps.storage.transaction,
    repo: createUsersRepo(db),
    settings: createSettingsRepo(db),
    organizations,
    hasher: deps.hasher,
    audit: deps.audit,
    events: deps.events,
    revokeOnPasswordSet: deps.config.revokeSessionsOnPasswordSet,
  });
  const apiKeys = createApiKeysService({
    repo: createApiKeysRepo(db),
    users: users.lookup,
    audit: deps.audit,
    events: deps.events,
    log: deps.log,
  });
  const branding = createBrandingService({ db, organizations, audit: deps.audit });
  const routes: FastifyPluginAsync = async (app) => {
    await app.register(identityRoutes, { services: { organizations, users, apiKeys } });
    await app.register(brandingRoutes, { services: { branding } });
  };
  return {
    organizations,
    branding,
    users,
    apiKeys,
    routes,
    /** First start: the default organization and the superadmin (`announce` shows a generated password once). */
    bootstrap: (announce: (message: string) => void) => bootstrap(deps.config, { organizations, users }, announce),
  };
}
export type IdentityDomain = ReturnType<typeof createIdentityDomain>;
