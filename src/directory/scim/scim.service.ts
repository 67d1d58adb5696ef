import type { AuditService } from '../../audit/index.js';
import { AppError } from '../../errors/index.js';
import type { UsersService } from '../../identity/index.js';
import type { Transaction } from './scim.access.js';
import { discoveryDocuments } from './scim.discovery.js';
import { createScimGroups } from './scim.groups.js';
import { listResponse } from './scim.list.js';
import type { ScimRepo } from './scim.repo.js';
import { createScimUsers } from './scim.users.js';

export type { ListParams } from './scim.list.js';
export type { PatchOperationInput } from './scim.patch.js';
export { type Projection, parseActive } from './scim.resources.js';

/** What the SCIM service needs (`app.ts` wires them). */
export interface ScimDeps {
  /** Built on `storage.executor`, so that it joins `transaction`. */
  repo: ScimRepo;
  users: UsersService;
  audit: AuditService;
  /** Runs one request's writes in one transaction (`storage.transaction`); the repos above join it. */
  transaction: Transaction;
  /** Absolute base of the SCIM API (`<public URL>/scim/v2`), for `meta.location`. */
  baseUrl: string;
}

/**
 * SCIM 2.0 Users and Groups (RFC 7643/7644) over Portcullis users, as Microsoft Entra ID provisions
 * them: discovery here; Users in `scim.users.ts`, Groups in `scim.groups.ts`, PATCH in
 * `scim.patch.ts`, resource mapping in `scim.resources.ts`, list paging in `scim.list.ts`.
 */
export function createScimService(deps: ScimDeps) {
  const docs = discoveryDocuments(deps.baseUrl);
  return {
    serviceProviderConfig: () => docs.serviceProviderConfig,
    resourceTypes: () => listResponse(docs.resourceTypes.length, 1, docs.resourceTypes),
    resourceType(name: string) {
      const found = docs.resourceTypes.find((r) => r.id.toLowerCase() === name.toLowerCase());
      if (!found) throw new AppError('resource.not_found');
      return found;
    },
    schemas: () => listResponse(docs.schemas.length, 1, docs.schemas),
    schema(id: string) {
      const found = docs.schemas.find((s) => s.id.toLowerCase() === id.toLowerCase());
      if (!found) throw new AppError('resource.not_found');
      return found;
    },
    ...createScimUsers(deps),
    ...createScimGroups(deps),
  };
}
/** The SCIM service: what `scim.routes.ts` calls. */
export type ScimService = ReturnType<typeof createScimService>;
