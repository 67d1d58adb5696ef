import { AppError } from '../../errors/index.js';
import { type Executor, isUniqueViolation, type OrganizationsTable } from '../../storage/index.js';

export interface OrganizationPolicy {
  /** Minimum password length (8; NIST asks 15 where the password is the only factor). */
  passwordMinLength: number;
  /** Members without MFA get a session that can only enroll. */
  requireMfa: boolean;
  /** A user's first sign-in answers `requireResetPassword: true`. */
  requireResetOnFirstLogin: boolean;
  /** Days after which a password must be changed; 0 turns rotation off. */
  passwordRotationDays: number;
  /** An administrator-set password (seed 003, SCIM) must be changed at next sign-in unless the request says otherwise. */
  mustChangePasswordOnAdminSet: boolean;
}

export const DEFAULT_POLICY: OrganizationPolicy = {
  passwordMinLength: 8,
  requireMfa: false,
  requireResetOnFirstLogin: false,
  passwordRotationDays: 0,
  mustChangePasswordOnAdminSet: false,
};

export interface Organization {
  id: string;
  name: string;
  policy: OrganizationPolicy;
  createdAt: string;
  updatedAt: string;
}

const toOrganization = (row: OrganizationsTable): Organization => ({
  ...row,
  policy: { ...DEFAULT_POLICY, ...(JSON.parse(row.policy) as Partial<OrganizationPolicy>) },
});

export function createOrganizationsRepo(db: Executor) {
  return {
    async findById(id: string): Promise<Organization | undefined> {
      const row = await db.selectFrom('organizations').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toOrganization(row);
    },
    async findByName(name: string): Promise<Organization | undefined> {
      const row = await db.selectFrom('organizations').selectAll().where('name', '=', name).executeTakeFirst();
      return row && toOrganization(row);
    },
    async list(ids?: string[]): Promise<Organization[]> {
      let q = db.selectFrom('organizations').selectAll().orderBy('createdAt').orderBy('id');
      if (ids) q = q.where('id', 'in', ids.length ? ids : ['']);
      return (await q.execute()).map(toOrganization);
    },
    async insert(org: Organization): Promise<Organization> {
      try {
        await db
          .insertInto('organizations')
          .values({ ...org, policy: JSON.stringify(org.policy) })
          .execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw new AppError('resource.conflict', { details: ['body.name'], detail: 'organization name taken' });
        throw err;
      }
      return org;
    },
    async updateById(id: string, patch: { name?: string; policy?: OrganizationPolicy; updatedAt: string }): Promise<void> {
      try {
        await db
          .updateTable('organizations')
          .set({
            updatedAt: patch.updatedAt,
            ...(patch.name !== undefined ? { name: patch.name } : {}),
            ...(patch.policy ? { policy: JSON.stringify(patch.policy) } : {}),
          })
          .where('id', '=', id)
          .execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw new AppError('resource.conflict', { details: ['body.name'], detail: 'organization name taken' });
        throw err;
      }
    },
  };
}
export type OrganizationsRepo = ReturnType<typeof createOrganizationsRepo>;
