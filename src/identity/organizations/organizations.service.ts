import type { AuditService } from '../../audit/index.js';
import { authorize, type RequestContext } from '../../auth/index.js';
import { newId } from '../../crypto/index.js';
import { AppError } from '../../errors/index.js';
import { ownProps } from '../../http/index.js';
import { DEFAULT_POLICY, type Organization, type OrganizationPolicy, type OrganizationsRepo } from './organizations.repo.js';

export interface OrganizationsDeps {
  repo: OrganizationsRepo;
  audit: AuditService;
}

export function createOrganizationsService(deps: OrganizationsDeps) {
  const { repo, audit } = deps;
  return {
    async create(ctx: RequestContext, body: { name: string; policy?: Partial<OrganizationPolicy> }): Promise<Organization> {
      const input = ownProps(body);
      const id = newId();
      authorize(ctx.principal, 'organization.create', { kind: 'organization', id });
      const now = ctx.now.toISOString();
      const org = await repo.insert({
        id,
        name: input.name.trim(),
        policy: { ...DEFAULT_POLICY, ...(input.policy ?? {}) },
        createdAt: now,
        updatedAt: now,
      });
      await audit.record(ctx, { action: 'organization.created', organizationId: org.id, targetType: 'organization', targetId: org.id });
      return org;
    },
    async list(ctx: RequestContext): Promise<Organization[]> {
      const p = ctx.principal;
      if (!p) throw new AppError('auth.unauthenticated');
      return p.isSuperadmin ? repo.list() : repo.list([p.organizationId]);
    },
    async get(ctx: RequestContext, id: string): Promise<Organization> {
      authorize(ctx.principal, 'organization.read', { kind: 'organization', id });
      const org = await repo.findById(id);
      if (!org) throw new AppError('resource.not_found');
      return org;
    },
    async update(ctx: RequestContext, id: string, body: { name?: string; policy?: Partial<OrganizationPolicy> }): Promise<Organization> {
      const input = ownProps(body);
      const org = await this.get(ctx, id);
      authorize(ctx.principal, 'organization.update', { kind: 'organization', id });
      const policy = input.policy ? { ...org.policy, ...input.policy } : undefined;
      await repo.updateById(id, {
        updatedAt: ctx.now.toISOString(),
        ...(input.name ? { name: input.name.trim() } : {}),
        ...(policy ? { policy } : {}),
      });
      await audit.record(ctx, {
        action: 'organization.updated',
        organizationId: id,
        targetType: 'organization',
        targetId: id,
        data: { changedFields: [...(input.name ? ['name'] : []), ...Object.keys(input.policy ?? {}).map((k) => `policy.${k}`)] },
      });
      return (await repo.findById(id)) as Organization;
    },
    /** The organization's policy (for other services). */
    async policyOf(organizationId: string): Promise<OrganizationPolicy> {
      return (await repo.findById(organizationId))?.policy ?? DEFAULT_POLICY;
    },
    findById: repo.findById,
    findByName: repo.findByName,
    insert: repo.insert,
  };
}
export type OrganizationsService = ReturnType<typeof createOrganizationsService>;
