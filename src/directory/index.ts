import type { FastifyPluginAsync } from 'fastify';
import type { AuditService } from '../audit/index.js';
import type { Config } from '../config/index.js';
import type { OrganizationsService, UsersService } from '../identity/index.js';
import type { Storage } from '../storage/index.js';
import { directoryRoutes } from './directory.routes.js';
import { createDirectoryService } from './directory.service.js';
import { createScimRepo } from './scim/scim.repo.js';
import { createScimService } from './scim/scim.service.js';

export { type DirectoryService, USER_NOT_FOUND_MESSAGE } from './directory.service.js';
export { ScimErrorSchema } from './scim/scim.schemas.js';
export type { ScimService } from './scim/scim.service.js';

/** The directory domain: HelloID's credential endpoints (seed 003) and SCIM 2.0 at `/scim/v2`. */
export function createDirectoryDomain(deps: {
  storage: Pick<Storage, 'executor' | 'transaction'>;
  config: Config;
  users: UsersService;
  organizations: OrganizationsService;
  audit: AuditService;
}) {
  const directory = createDirectoryService({ users: deps.users, organizations: deps.organizations });
  const scim = createScimService({
    repo: createScimRepo(deps.storage.executor),
    transaction: deps.storage.transaction,
    users: deps.users,
    audit: deps.audit,
    baseUrl: `${deps.config.publicUrl.replace(/\/$/, '')}/scim/v2`,
  });
  const routes: FastifyPluginAsync = async (app) => {
    await app.register(directoryRoutes, { services: { directory, scim } });
  };
  return { directory, scim, routes };
}
