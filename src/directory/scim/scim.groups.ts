import type { Filter } from 'scim2-parse-filter';
import type { AuditService } from '../../audit/index.js';
import type { RequestContext } from '../../auth/index.js';
import { newId } from '../../crypto/index.js';
import { AppError } from '../../errors/index.js';
import type { UsersService } from '../../identity/index.js';
import { UniqueViolation } from '../../storage/index.js';
import { organizationOf, type Transaction } from './scim.access.js';
import { eqHint, parseFilter } from './scim.filter.js';
import { type ListParams, type ListResponse, type ListSource, listResources } from './scim.list.js';
import { type GroupState, type PatchOperationInput, patchGroupState } from './scim.patch.js';
import { assertSafeAttributeParams, assertSafeKeys, assertSafePatch } from './scim.paths.js';
import type { DirectoryGroup, ScimAttributes, ScimRepo } from './scim.repo.js';
import {
  checkDisplayName,
  excludesMembers,
  groupExtra,
  isObject,
  type Projection,
  project,
  type Resource,
  str,
  toScimGroup,
} from './scim.resources.js';
import type { ScimGroupOut } from './scim.schemas.js';

/** What SCIM Groups need. */
export interface ScimGroupsDeps {
  repo: ScimRepo;
  /** Members are read through its lookups; their `groups` names are written through `setGroups`. */
  users: UsersService;
  audit: AuditService;
  transaction: Transaction;
  /** Absolute base of the SCIM API (`<public URL>/scim/v2`), for `meta.location`. */
  baseUrl: string;
}

/** Runs a group write: another group's name or external id is SCIM's `uniqueness` (a 409 naming the attribute). */
async function groupConflicts<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (!(err instanceof UniqueViolation)) throw err;
    const field = /external_id/.test(err.constraint) ? 'externalId' : 'displayName';
    throw new AppError('resource.conflict', { details: [field], detail: `group ${field} taken`, cause: err });
  }
}

/** SCIM Groups (RFC 7643 §4.2): list, get, create, replace, patch, delete; members are users of the organization. */
export function createScimGroups(deps: ScimGroupsDeps) {
  const { repo, users, audit, transaction, baseUrl } = deps;

  async function findGroup(organizationId: string, id: string): Promise<DirectoryGroup> {
    const group = await repo.findGroupById(organizationId, id);
    if (!group) throw new AppError('resource.not_found', { detail: 'no such SCIM group' });
    return group;
  }

  const memberIdsNow = async (groupId: string): Promise<string[]> => (await repo.memberIds([groupId])).get(groupId) ?? [];

  /** Groups as SCIM resources; with members, their ids in one read and their user names in another. */
  async function presentGroups(groups: DirectoryGroup[], withMembers: boolean): Promise<Resource[]> {
    const members = withMembers ? await repo.memberIds(groups.map((g) => g.id)) : undefined;
    const names = new Map<string, string>();
    if (members) for (const u of await users.lookup.findByIds([...new Set([...members.values()].flat())])) names.set(u.id, u.userName);
    return groups.map((g) => toScimGroup(g, members && (members.get(g.id) ?? []), names, baseUrl));
  }

  async function presentGroup(group: DirectoryGroup): Promise<ScimGroupOut> {
    return (await presentGroups([group], true))[0] as ScimGroupOut;
  }

  /** Member ids of a request, without repeats: each must be a user of the organization (one read for all). */
  async function memberIdsOf(organizationId: string, value: unknown): Promise<string[]> {
    const items = value === undefined || value === null ? [] : Array.isArray(value) ? value : [value];
    const ids = new Set<string>();
    for (const item of items) {
      const id = isObject(item) ? item.value : undefined;
      if (typeof id !== 'string') throw new AppError('scim.invalid_value', { details: ['members'], detail: 'member without value' });
      ids.add(id);
    }
    const found = new Set(
      (await users.lookup.findByIds([...ids])).filter((u) => u.organizationId === organizationId && u.state !== 'DELETED').map((u) => u.id),
    );
    if ([...ids].some((id) => !found.has(id))) {
      throw new AppError('scim.invalid_value', { details: ['members'], detail: 'member is not a user of this organization' });
    }
    return [...ids];
  }

  /**
   * Keeps each member's `groups` (names) in step with its memberships. A name the user holds that
   * is a group of the organization (or one of `formerNames`) is SCIM's; names of other origins stay.
   */
  async function syncGroupNames(
    ctx: RequestContext,
    organizationId: string,
    userIds: readonly string[],
    formerNames: readonly string[] = [],
  ): Promise<void> {
    if (!userIds.length) return;
    const members = new Map((await users.lookup.findByIds([...new Set(userIds)])).map((u) => [u.id, u]));
    const memberships = await repo.membershipsOf([...members.keys()]);
    const held = [...members.values()].flatMap((u) => u.groups);
    const managed = await repo.groupNameKeys(organizationId, held);
    for (const name of formerNames) managed.add(name.toLowerCase());
    for (const userId of new Set(userIds)) {
      const user = members.get(userId);
      if (!user) continue;
      const mine = memberships.filter((m) => m.userId === userId).map((m) => m.displayName);
      const next = [...user.groups.filter((n) => !managed.has(n.toLowerCase())), ...mine];
      await users.setGroups(ctx, user, next);
    }
  }

  /** Applies a group's new state: row, memberships, the members' `groups` names, and the audit record. */
  async function saveGroup(
    ctx: RequestContext,
    before: DirectoryGroup,
    next: { displayName: string; externalId: string | null; extra: ScimAttributes },
    members: { add: string[]; remove: string[] },
  ): Promise<void> {
    const now = ctx.now.toISOString();
    const renamed = next.displayName !== before.displayName;
    const changed = renamed || next.externalId !== before.externalId || JSON.stringify(next.extra) !== JSON.stringify(before.extra);
    if (changed || members.add.length || members.remove.length) {
      await groupConflicts(() => repo.updateGroup(before.id, { ...next, updatedAt: now }));
    }
    await repo.removeMembers(before.id, members.remove);
    await repo.addMembers(before.id, members.add, now);
    const current = renamed ? await memberIdsNow(before.id) : [];
    await syncGroupNames(
      ctx,
      before.organizationId,
      [...new Set([...members.add, ...members.remove, ...current])],
      renamed ? [before.displayName] : [],
    );
    await audit.record(ctx, {
      action: 'directory.group_updated',
      organizationId: before.organizationId,
      targetType: 'group',
      targetId: before.id,
      data: { renamed, membersAdded: members.add.length, membersRemoved: members.remove.length },
    });
  }

  return {
    async listGroups(ctx: RequestContext, params: ListParams): Promise<ListResponse<ScimGroupOut>> {
      const organizationId = organizationOf(ctx);
      assertSafeAttributeParams(params);
      // Members are only read when the filter or the response needs them.
      const withMembers = !excludesMembers(params) || /members/i.test(params.filter ?? '');
      const source: ListSource<DirectoryGroup> = {
        // displayName (any case), externalId and id are indexed.
        narrowed: async (filter: Filter) => {
          const hint = {
            ...(eqHint(filter, 'displayName') !== undefined ? { displayName: eqHint(filter, 'displayName') } : {}),
            ...(eqHint(filter, 'externalId') !== undefined ? { externalId: eqHint(filter, 'externalId') } : {}),
            ...(eqHint(filter, 'id') !== undefined ? { id: eqHint(filter, 'id') } : {}),
          };
          return Object.keys(hint).length ? repo.listGroups(organizationId, hint) : undefined;
        },
        count: () => repo.countGroups(organizationId),
        list: (page) => repo.listGroups(organizationId, {}, page),
        present: (groups) => presentGroups(groups, withMembers),
      };
      return (await listResources(params, parseFilter(params.filter), source)) as ListResponse<ScimGroupOut>;
    },

    async getGroup(ctx: RequestContext, id: string, projection: Projection = {}): Promise<ScimGroupOut> {
      const group = await findGroup(organizationOf(ctx), id);
      assertSafeAttributeParams(projection);
      return project((await presentGroups([group], !excludesMembers(projection)))[0] as Resource, projection) as ScimGroupOut;
    },

    /** POST /Groups: the group, its members, their `groups` names and the audit record, in one transaction. */
    async createGroup(ctx: RequestContext, body: Resource): Promise<ScimGroupOut> {
      const organizationId = organizationOf(ctx);
      assertSafeKeys(body);
      const displayName = checkDisplayName(body.displayName);
      const group = await transaction(async () => {
        const members = await memberIdsOf(organizationId, body.members);
        const now = ctx.now.toISOString();
        const created: DirectoryGroup = {
          id: newId(),
          organizationId,
          displayName,
          externalId: str(body.externalId),
          extra: groupExtra(body),
          createdAt: now,
          updatedAt: now,
        };
        await groupConflicts(() => repo.insertGroup(created));
        await repo.addMembers(created.id, members, now);
        await syncGroupNames(ctx, organizationId, members);
        await audit.record(ctx, {
          action: 'directory.group_created',
          organizationId,
          targetType: 'group',
          targetId: created.id,
          data: { members: members.length },
        });
        return created;
      });
      return presentGroup(group);
    },

    /** PUT /Groups/{id}: name, externalId and members are replaced (absent members means none). */
    async replaceGroup(ctx: RequestContext, id: string, body: Resource): Promise<ScimGroupOut> {
      const organizationId = organizationOf(ctx);
      await transaction(async () => {
        const before = await findGroup(organizationId, id);
        assertSafeKeys(body);
        if (body.id !== undefined && body.id !== id) throw new AppError('scim.mutability', { detail: 'id cannot change' });
        const wanted = await memberIdsOf(organizationId, body.members);
        const current = await memberIdsNow(id);
        await saveGroup(
          ctx,
          before,
          { displayName: checkDisplayName(body.displayName), externalId: str(body.externalId), extra: groupExtra(body) },
          { add: wanted.filter((m) => !current.includes(m)), remove: current.filter((m) => !wanted.includes(m)) },
        );
      });
      return presentGroup(await findGroup(organizationId, id));
    },

    /**
     * PATCH /Groups/{id}: `displayName`/`externalId` replace, members added and removed by value
     * list or by `members[value eq "…"]` path. Removing a member that is not there is a no-op.
     */
    async patchGroup(ctx: RequestContext, id: string, operations: PatchOperationInput[]): Promise<void> {
      const organizationId = organizationOf(ctx);
      await transaction(async () => {
        const before = await findGroup(organizationId, id);
        assertSafePatch(operations);
        const current = new Set(await memberIdsNow(id));
        const next: GroupState = {
          displayName: before.displayName,
          externalId: before.externalId,
          extra: { ...before.extra },
          members: new Set(current),
        };
        await patchGroupState(next, operations, (value) => memberIdsOf(organizationId, value));
        await saveGroup(
          ctx,
          before,
          { displayName: next.displayName, externalId: next.externalId, extra: next.extra },
          { add: [...next.members].filter((m) => !current.has(m)), remove: [...current].filter((m) => !next.members.has(m)) },
        );
      });
    },

    async deleteGroup(ctx: RequestContext, id: string): Promise<void> {
      const organizationId = organizationOf(ctx);
      await transaction(async () => {
        const group = await findGroup(organizationId, id);
        const members = await memberIdsNow(id);
        await repo.deleteGroup(id);
        await syncGroupNames(ctx, organizationId, members, [group.displayName]);
        await audit.record(ctx, { action: 'directory.group_deleted', organizationId, targetType: 'group', targetId: id });
      });
    },
  };
}
