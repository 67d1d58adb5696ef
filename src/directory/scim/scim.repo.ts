import type { Selectable } from 'kysely';
import { type DirectoryGroupsTable, type Executor, uniqueViolationOf } from '../../storage/index.js';

/** Attributes of a SCIM resource as the client sent them. */
export type ScimAttributes = Record<string, unknown>;

export interface DirectoryGroup {
  id: string;
  organizationId: string;
  displayName: string;
  externalId: string | null;
  /** Other attributes as sent. */
  extra: ScimAttributes;
  createdAt: string;
  updatedAt: string;
}

export interface GroupMembership {
  groupId: string;
  userId: string;
  displayName: string;
}

const toGroup = (r: Selectable<DirectoryGroupsTable>): DirectoryGroup => ({
  id: r.id,
  organizationId: r.organizationId,
  displayName: r.displayName,
  externalId: r.externalId,
  extra: JSON.parse(r.resource) as ScimAttributes,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

const CHUNK = 500;
function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

export function createScimRepo(db: Executor) {
  return {
    // ---- SCIM user resources ----
    async findResources(userIds: readonly string[]): Promise<Map<string, { resource: ScimAttributes; updatedAt: string }>> {
      const out = new Map<string, { resource: ScimAttributes; updatedAt: string }>();
      for (const ids of chunks(userIds)) {
        if (!ids.length) continue;
        const rows = await db.selectFrom('directoryScimUsers').selectAll().where('userId', 'in', ids).execute();
        for (const r of rows) out.set(r.userId, { resource: JSON.parse(r.resource) as ScimAttributes, updatedAt: r.updatedAt });
      }
      return out;
    },
    async upsertResource(userId: string, organizationId: string, resource: ScimAttributes, updatedAt: string): Promise<void> {
      const json = JSON.stringify(resource);
      await db
        .insertInto('directoryScimUsers')
        .values({ userId, organizationId, resource: json, updatedAt })
        .onConflict((oc) => oc.column('userId').doUpdateSet({ resource: json, updatedAt }))
        .execute();
    },
    async deleteResource(userId: string): Promise<void> {
      await db.deleteFrom('directoryScimUsers').where('userId', '=', userId).execute();
    },

    // ---- groups ----
    async findGroupById(organizationId: string, id: string): Promise<DirectoryGroup | undefined> {
      const row = await db
        .selectFrom('directoryGroups')
        .selectAll()
        .where('organizationId', '=', organizationId)
        .where('id', '=', id)
        .executeTakeFirst();
      return row && toGroup(row);
    },
    /**
     * Groups of an organization in (createdAt, id) order, narrowed by indexed columns (`hint`) and
     * paged by `limit` with `offset` or `after` (keyset).
     */
    async listGroups(
      organizationId: string,
      hint: { displayName?: string; externalId?: string; id?: string } = {},
      page: { limit?: number; offset?: number; after?: { createdAt: string; id: string } } = {},
    ): Promise<DirectoryGroup[]> {
      let q = db.selectFrom('directoryGroups').selectAll().where('organizationId', '=', organizationId);
      if (hint.displayName !== undefined) q = q.where('displayNameKey', '=', hint.displayName.toLowerCase());
      if (hint.externalId !== undefined) q = q.where('externalId', '=', hint.externalId);
      if (hint.id !== undefined) q = q.where('id', '=', hint.id);
      const after = page.after;
      if (after) {
        q = q.where((eb) =>
          eb.or([eb('createdAt', '>', after.createdAt), eb.and([eb('createdAt', '=', after.createdAt), eb('id', '>', after.id)])]),
        );
      }
      q = q.orderBy('createdAt').orderBy('id');
      if (page.limit !== undefined) q = q.limit(page.limit);
      if (page.offset) q = q.offset(page.offset);
      return (await q.execute()).map(toGroup);
    },
    async countGroups(organizationId: string): Promise<number> {
      const r = await db
        .selectFrom('directoryGroups')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('organizationId', '=', organizationId)
        .executeTakeFirstOrThrow();
      return Number(r.n);
    },
    /** Which of `names` (any case) are group names of the organization, lower-cased. */
    async groupNameKeys(organizationId: string, names: readonly string[]): Promise<Set<string>> {
      const out = new Set<string>();
      for (const keys of chunks([...new Set(names.map((n) => n.toLowerCase()))])) {
        if (!keys.length) continue;
        const rows = await db
          .selectFrom('directoryGroups')
          .select('displayNameKey')
          .where('organizationId', '=', organizationId)
          .where('displayNameKey', 'in', keys)
          .execute();
        for (const r of rows) out.add(r.displayNameKey);
      }
      return out;
    },
    async insertGroup(g: DirectoryGroup): Promise<void> {
      try {
        await db
          .insertInto('directoryGroups')
          .values({
            id: g.id,
            organizationId: g.organizationId,
            displayName: g.displayName,
            displayNameKey: g.displayName.toLowerCase(),
            externalId: g.externalId,
            resource: JSON.stringify(g.extra),
            createdAt: g.createdAt,
            updatedAt: g.updatedAt,
          })
          .execute();
      } catch (err) {
        throw uniqueViolationOf(err);
      }
    },
    async updateGroup(id: string, patch: { displayName: string; externalId: string | null; extra: ScimAttributes; updatedAt: string }) {
      try {
        await db
          .updateTable('directoryGroups')
          .set({
            displayName: patch.displayName,
            displayNameKey: patch.displayName.toLowerCase(),
            externalId: patch.externalId,
            resource: JSON.stringify(patch.extra),
            updatedAt: patch.updatedAt,
          })
          .where('id', '=', id)
          .execute();
      } catch (err) {
        throw uniqueViolationOf(err);
      }
    },
    async deleteGroup(id: string): Promise<void> {
      await db.deleteFrom('directoryGroupMembers').where('groupId', '=', id).execute();
      await db.deleteFrom('directoryGroups').where('id', '=', id).execute();
    },

    // ---- members ----
    async memberIds(groupIds: readonly string[]): Promise<Map<string, string[]>> {
      const out = new Map<string, string[]>(groupIds.map((id) => [id, []]));
      for (const ids of chunks(groupIds)) {
        if (!ids.length) continue;
        const rows = await db
          .selectFrom('directoryGroupMembers')
          .select(['groupId', 'userId'])
          .where('groupId', 'in', ids)
          .orderBy('createdAt')
          .orderBy('userId')
          .execute();
        for (const r of rows) out.get(r.groupId)?.push(r.userId);
      }
      return out;
    },
    async membershipsOf(userIds: readonly string[]): Promise<GroupMembership[]> {
      const out: GroupMembership[] = [];
      for (const ids of chunks(userIds)) {
        if (!ids.length) continue;
        const rows = await db
          .selectFrom('directoryGroupMembers')
          .innerJoin('directoryGroups', 'directoryGroups.id', 'directoryGroupMembers.groupId')
          .select(['directoryGroupMembers.groupId', 'directoryGroupMembers.userId', 'directoryGroups.displayName'])
          .where('directoryGroupMembers.userId', 'in', ids)
          .orderBy('directoryGroups.displayNameKey')
          .execute();
        out.push(...rows);
      }
      return out;
    },
    async addMembers(groupId: string, userIds: readonly string[], createdAt: string): Promise<void> {
      if (!userIds.length) return;
      await db
        .insertInto('directoryGroupMembers')
        .values(userIds.map((userId) => ({ groupId, userId, createdAt })))
        .onConflict((oc) => oc.columns(['groupId', 'userId']).doNothing())
        .execute();
    },
    async removeMembers(groupId: string, userIds: readonly string[]): Promise<void> {
      for (const ids of chunks(userIds)) {
        if (!ids.length) continue;
        await db.deleteFrom('directoryGroupMembers').where('groupId', '=', groupId).where('userId', 'in', ids).execute();
      }
    },
    async removeUserEverywhere(userId: string): Promise<void> {
      await db.deleteFrom('directoryGroupMembers').where('userId', '=', userId).execute();
    },
  };
}
export type ScimRepo = ReturnType<typeof createScimRepo>;
