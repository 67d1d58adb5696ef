import { type Executor, type OrganizationsTable, uniquely } from '../../storage/index.js';
import type { OrganizationPolicy } from './organization-policy.js';

/** An organization as stored: its policy holds only what was ever set (the service fills in the defaults). */
export interface OrganizationRow {
  id: string;
  name: string;
  policy: Partial<OrganizationPolicy>;
  createdAt: string;
  updatedAt: string;
}

const toRow = (row: OrganizationsTable): OrganizationRow => ({ ...row, policy: JSON.parse(row.policy) as Partial<OrganizationPolicy> });

export function createOrganizationsRepo(db: Executor) {
  return {
    async findById(id: string): Promise<OrganizationRow | undefined> {
      const row = await db.selectFrom('organizations').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toRow(row);
    },
    async findByName(name: string): Promise<OrganizationRow | undefined> {
      const row = await db.selectFrom('organizations').selectAll().where('name', '=', name).executeTakeFirst();
      return row && toRow(row);
    },
    async list(ids?: string[]): Promise<OrganizationRow[]> {
      let q = db.selectFrom('organizations').selectAll().orderBy('createdAt').orderBy('id');
      if (ids) q = q.where('id', 'in', ids.length ? ids : ['']);
      return (await q.execute()).map(toRow);
    },
    async insert(org: OrganizationRow): Promise<OrganizationRow> {
      await uniquely(() =>
        db
          .insertInto('organizations')
          .values({ ...org, policy: JSON.stringify(org.policy) })
          .execute(),
      );
      return org;
    },
    async updateById(id: string, patch: { name?: string; policy?: OrganizationPolicy; updatedAt: string }): Promise<void> {
      await uniquely(() =>
        db
          .updateTable('organizations')
          .set({
            updatedAt: patch.updatedAt,
            ...(patch.name !== undefined ? { name: patch.name } : {}),
            ...(patch.policy ? { policy: JSON.stringify(patch.policy) } : {}),
          })
          .where('id', '=', id)
          .execute(),
      );
    },
  };
}
export type OrganizationsRepo = ReturnType<typeof createOrganizationsRepo>;
