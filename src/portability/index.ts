import type { FastifyPluginAsync } from 'fastify';
import type { AuditService } from '../audit/index.js';
import type { Config } from '../config/index.js';
import type { UsersService } from '../identity/index.js';
import { portabilityRoutes } from './portability.routes.js';
import { createPortabilityService } from './portability.service.js';

export { IMPORT_FORMATS, type ImportFormat } from './formats.js';
export type { ExportedUser, ImportReport, ImportRequest, PortabilityService } from './portability.service.js';

/**
 * Moving users in and out (issue 20): `POST /v1/users:import` and the CLI's `import` / `export`.
 * It writes users only through the users service (the table's one writer).
 */
export function createPortabilityDomain(deps: { config: Config; users: UsersService; audit: AuditService }) {
  const portability = createPortabilityService({ users: deps.users, audit: deps.audit });
  const routes: FastifyPluginAsync = async (app) => {
    await app.register(portabilityRoutes, {
      portability,
      maxBytes: deps.config.importMaxBytes,
      maxUsers: deps.config.importMaxUsers,
    });
  };
  return { portability, routes };
}
