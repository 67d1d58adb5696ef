import type { AuditService } from '../../audit/index.js';
import { authorize, type RequestContext } from '../../auth/index.js';
import { newId } from '../../crypto/index.js';
import { AppError } from '../../errors/index.js';
import { ownProps } from '../../http/index.js';
import { UniqueViolation } from '../../storage/index.js';
import { DEFAULT_POLICY, type Organization, type OrganizationPolicy, withDefaults } from './organization-policy.js';
import type { OrganizationRow, OrganizationsRepo } from './organizations.repo.js';

export interface OrganizationsDeps {
  repo: OrganizationsRepo;
  audit: AuditService;
}

const complete = (row: OrganizationRow): Organization => ({ ...row, policy: withDefaults(row.policy) });

/** Runs a write of an organization's name: another organization's name is a 409 on `body.name`. */
async function nameConflict<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (err instanceof UniqueViolation)
      throw new AppError('resource.conflict', { details: ['body.name'], detail: 'organization name taken', cause: err });
    throw err;
  }
}

/** Organizations and their policy (password length, MFA, reset and rotation rules). */
export function createOrganizationsService(deps: OrganizationsDeps) {
  const { repo, audit } = deps;

  async function findById(id: string): Promise<Organization | undefined> {
    const row = await repo.findById(id);
    return row && complete(row);
  }

  return {
    async create(ctx: RequestContext, body: { name: string; policy?: Partial<OrganizationPolicy> }): Promise<Organization> {
      const input = ownProps(body);
      const id = newId();
      authorize(ctx.principal, 'organization.create', { kind: 'organization', id });
      const now = ctx.now.toISOString();
      const org = await nameConflict(() =>
        repo.insert({
          id,
          name: input.name.trim(),
          policy: { ...DEFAULT_POLICY, ...(input.policy ?? {}) },
          createdAt: now,
          updatedAt: now,
        }),
      );
      await audit.record(ctx, { action: 'organization.created', organizationId: org.id, targetType: 'organization', targetId: org.id });
      return complete(org);
    },
    async list(ctx: RequestContext): Promise<Organization[]> {
      const p = ctx.principal;
      if (!p) throw new AppError('auth.unauthenticated');
      return (p.isSuperadmin ? await repo.list() : await repo.list([p.organizationId])).map(complete);
    },
    async get(ctx: RequestContext, id: string): Promise<Organization> {
      authorize(ctx.principal, 'organization.read', { kind: 'organization', id });
      const org = await findById(id);
      if (!org) throw new AppError('resource.not_found');
      return org;
    },
    async update(ctx: RequestContext, id: string, body: { name?: string; policy?: Partial<OrganizationPolicy> }): Promise<Organization> {
      const input = ownProps(body);
      const org = await this.get(ctx, id);
      authorize(ctx.principal, 'organization.update', { kind: 'organization', id });
      const policy = input.policy ? { ...org.policy, ...input.policy } : undefined;
      await nameConflict(() =>
        repo.updateById(id, {
          updatedAt: ctx.now.toISOString(),
          ...(input.name ? { name: input.name.trim() } : {}),
          ...(policy ? { policy } : {}),
        }),
      );
      await audit.record(ctx, {
        action: 'organization.updated',
        organizationId: id,
        targetType: 'organization',
        targetId: id,
        data: { changedFields: [...(input.name ? ['name'] : []), ...Object.keys(input.policy ?? {}).map((k) => `policy.${k}`)] },
      });
      return (await findById(id)) as Organization;
    },
    /** The organization's policy (for other services). */
    async policyOf(organizationId: string): Promise<OrganizationPolicy> {
      return (await findById(organizationId))?.policy ?? DEFAULT_POLICY;
    },
    findById,
    async findByName(name: string): Promise<Organization | undefined> {
      const row = await repo.findByName(name);
      return row && complete(row);
    },
    /** The default organization at first start (bootstrap: no actor, no policy check). */
    async insertDefault(name: string): Promise<Organization> {
      const now = new Date().toISOString();
      return complete(await repo.insert({ id: newId(), name, policy: {}, createdAt: now, updatedAt: now }));
    },
  };
}
export type OrganizationsService = ReturnType<typeof createOrganizationsService>;
