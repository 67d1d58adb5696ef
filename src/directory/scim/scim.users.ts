import type { Filter } from 'scim2-parse-filter';
import type { RequestContext } from '../../auth/index.js';
import { AppError } from '../../errors/index.js';
import type { UpdateUserInput, User, UserCriteria, UserState, UsersService } from '../../identity/index.js';
import { organizationOf, type Transaction } from './scim.access.js';
import { eqHint, parseFilter } from './scim.filter.js';
import { type ListParams, type ListResponse, type ListSource, listResources } from './scim.list.js';
import { type PatchOperationInput, patchUserResource } from './scim.patch.js';
import { assertSafeAttributeParams, assertSafeKeys, assertSafePatch } from './scim.paths.js';
import type { ScimRepo } from './scim.repo.js';
import { columnsOf, type Projection, parseActive, project, type Resource, storable, toScimUser } from './scim.resources.js';
import type { ScimUserOut } from './scim.schemas.js';

/** What SCIM Users need: no users table of its own, only the users service. */
export interface ScimUsersDeps {
  repo: ScimRepo;
  /** The only writer of users (policy-checked, audited); its lookups are the only reads of them. */
  users: UsersService;
  transaction: Transaction;
  /** Absolute base of the SCIM API (`<public URL>/scim/v2`), for `meta.location`. */
  baseUrl: string;
}

/** The users SCIM lists: the organization's, without deleted ones. */
const listed = (organizationId: string): UserCriteria => ({ organizationId, excludeState: 'DELETED' });

/** A filter's `eq` on `attribute` as an index key; an empty value narrows nothing. */
const indexKey = (filter: Filter, attribute: string): string | undefined => eqHint(filter, attribute) || undefined;

/** SCIM Users (RFC 7643 §4.1) over Portcullis users: list, get, create, replace, patch, delete. */
export function createScimUsers(deps: ScimUsersDeps) {
  const { repo, users, transaction, baseUrl } = deps;

  /** A user of the caller's organization that is not deleted; otherwise 404, as for ids that never existed. */
  async function findUser(organizationId: string, id: string): Promise<User> {
    const user = await users.lookup.findById(id);
    if (!user || user.organizationId !== organizationId || user.state === 'DELETED') {
      throw new AppError('resource.not_found', { detail: 'no such SCIM user' });
    }
    return user;
  }

  /** Users as SCIM resources: their stored resources and group memberships in one read each. */
  async function presentUsers(list: User[]): Promise<Resource[]> {
    const ids = list.map((u) => u.id);
    const [stored, memberships] = await Promise.all([repo.findResources(ids), repo.membershipsOf(ids)]);
    return list.map((u) =>
      toScimUser(
        u,
        stored.get(u.id),
        memberships.filter((m) => m.userId === u.id),
        baseUrl,
      ),
    );
  }

  async function presentUser(u: User): Promise<ScimUserOut> {
    return (await presentUsers([u]))[0] as ScimUserOut;
  }

  /**
   * The users an indexed `eq` of the filter narrows to: `id` (primary key), `userName` (unique, any
   * case), `externalId` (unique per organization) and `emails.value` (the user's mapped email,
   * unique, stored lower-cased). `undefined` when the filter has none of them.
   */
  async function narrowed(organizationId: string, filter: Filter): Promise<User[] | undefined> {
    const id = indexKey(filter, 'id');
    if (id !== undefined) {
      return (await users.lookup.findByIds([id])).filter((u) => u.organizationId === organizationId && u.state !== 'DELETED');
    }
    const userName = indexKey(filter, 'userName');
    const externalId = indexKey(filter, 'externalId');
    const email = indexKey(filter, 'emails.value');
    if (userName === undefined && externalId === undefined && email === undefined) return undefined;
    return users.lookup.list({
      ...listed(organizationId),
      ...(userName !== undefined ? { userName } : {}),
      ...(externalId !== undefined ? { externalId } : {}),
      ...(email !== undefined ? { email } : {}),
      limit: 2,
    });
  }

  /**
   * Writes a whole SCIM user onto the user (PUT, and PATCH after applying its operations), inside
   * the request's transaction: the resource is kept as sent, and mapped attributes go to the user's
   * columns through the users service (audited; leaving ACTIVE runs the deactivation hooks, which
   * revoke sessions).
   */
  async function writeUser(ctx: RequestContext, user: User, resource: Resource): Promise<User> {
    const cols = columnsOf(resource);
    const active = parseActive(resource.active);
    const state: UserState | undefined = active === undefined ? undefined : active ? 'ACTIVE' : 'SUSPENDED';
    // Mapped columns are set, or cleared when the resource no longer carries them (one policy-checked update).
    const set: UpdateUserInput = {};
    for (const [k, v] of Object.entries(cols) as [keyof typeof cols, string | null][]) {
      if (v !== null || (user as unknown as Record<string, unknown>)[k] !== null) (set as Record<string, unknown>)[k] = v;
    }
    if (state && state !== user.state) set.state = state;
    await repo.upsertResource(user.id, user.organizationId, storable(resource), ctx.now.toISOString());
    // Last, so that the revocation it may broadcast comes as close to the commit as it can.
    return users.update(ctx, user.id, set);
  }

  return {
    async listUsers(ctx: RequestContext, params: ListParams): Promise<ListResponse<ScimUserOut>> {
      const organizationId = organizationOf(ctx);
      assertSafeAttributeParams(params);
      const source: ListSource<User> = {
        narrowed: (filter) => narrowed(organizationId, filter),
        count: () => users.lookup.countMatching(listed(organizationId)),
        list: (page) => users.lookup.list({ ...listed(organizationId), ...page }),
        present: presentUsers,
      };
      return (await listResources(params, parseFilter(params.filter), source)) as ListResponse<ScimUserOut>;
    },

    async getUser(ctx: RequestContext, id: string, projection: Projection = {}): Promise<ScimUserOut> {
      const organizationId = organizationOf(ctx);
      assertSafeAttributeParams(projection);
      return project(await presentUser(await findUser(organizationId, id)), projection) as ScimUserOut;
    },

    /**
     * POST /Users. `password` is ignored; `active: false` creates the user suspended. The user,
     * its settings, its audit record and its stored resource commit together or not at all.
     */
    async createUser(ctx: RequestContext, body: Resource): Promise<ScimUserOut> {
      organizationOf(ctx);
      assertSafeKeys(body);
      const cols = columnsOf(body);
      const active = parseActive(body.active);
      const created = await transaction(async () => {
        const { user } = await users.create(ctx, {
          userName: cols.userName,
          ...(cols.mobile ? { mobile: cols.mobile } : {}),
          ...(active === false ? { state: 'SUSPENDED' as const } : {}),
          ...(cols.email ? { email: cols.email } : {}),
          ...(cols.firstName ? { firstName: cols.firstName } : {}),
          ...(cols.lastName ? { lastName: cols.lastName } : {}),
          ...(cols.title ? { title: cols.title } : {}),
          ...(cols.department ? { department: cols.department } : {}),
          ...(cols.phone ? { phone: cols.phone } : {}),
          ...(cols.externalId ? { externalId: cols.externalId } : {}),
          profileSource: 'scim',
        });
        await repo.upsertResource(user.id, user.organizationId, storable(body), ctx.now.toISOString());
        return (await users.lookup.findById(user.id)) as User;
      });
      return presentUser(created);
    },

    /** PUT /Users/{id}: the body replaces the resource. */
    async replaceUser(ctx: RequestContext, id: string, body: Resource): Promise<ScimUserOut> {
      const written = await transaction(async () => {
        const user = await findUser(organizationOf(ctx), id);
        assertSafeKeys(body);
        if (body.id !== undefined && body.id !== id) throw new AppError('scim.mutability', { detail: 'id cannot change' });
        return writeUser(ctx, user, body);
      });
      return presentUser(written);
    },

    /** PATCH /Users/{id} (RFC 7644 §3.5.2), including Entra's `"False"` and no-path forms. */
    async patchUser(ctx: RequestContext, id: string, operations: PatchOperationInput[]): Promise<ScimUserOut> {
      const written = await transaction(async () => {
        const user = await findUser(organizationOf(ctx), id);
        assertSafePatch(operations);
        const { groups: _groups, ...current } = await presentUser(user);
        return writeUser(ctx, user, patchUserResource(current, operations));
      });
      return presentUser(written);
    },

    /** DELETE /Users/{id}: the user is deleted (soft, as everywhere in Portcullis) and leaves its groups. */
    async deleteUser(ctx: RequestContext, id: string): Promise<void> {
      await transaction(async () => {
        const user = await findUser(organizationOf(ctx), id);
        await repo.removeUserEverywhere(user.id);
        await repo.deleteResource(user.id);
        // Last, so that the revocation it broadcasts comes as close to the commit as it can.
        await users.remove(ctx, user.id);
      });
    },
  };
}
