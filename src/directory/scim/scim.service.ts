import { type ScimPatchOperation, scimPatch } from 'scim-patch';
import type { AuditService } from '../../audit/audit.service.js';
import type { RequestContext } from '../../auth/principal.js';
import { newId } from '../../crypto/index.js';
import { AppError, assertThat, type ErrorCode } from '../../errors/index.js';
import type { User, UserState } from '../../identity/users/users.repo.js';
import type { UpdateUserInput, UsersService } from '../../identity/users/users.service.js';
import { discoveryDocuments } from './scim.discovery.js';
import { eqHint, matches, parseFilter } from './scim.filter.js';
import { assertSafeAttributeParams, assertSafeKeys, assertSafePatch } from './scim.paths.js';
import type { DirectoryGroup, GroupMembership, ScimAttributes, ScimRepo } from './scim.repo.js';
import { SCIM, type ScimGroupOut, type ScimUserOut } from './scim.schemas.js';

export interface ScimDeps {
  repo: ScimRepo;
  users: UsersService;
  audit: AuditService;
  /** Runs one request's writes in one transaction (`storage.transaction`); the repos above join it. */
  transaction: <T>(fn: () => Promise<T>) => Promise<T>;
  /** Absolute base of the SCIM API (`<public URL>/scim/v2`), for `meta.location`. */
  baseUrl: string;
}

export interface ListParams {
  filter?: string | undefined;
  startIndex?: number | undefined;
  count?: number | undefined;
  attributes?: string | undefined;
  excludedAttributes?: string | undefined;
  /** Sorting is not supported (`sort.supported: false`): only checked, never applied. */
  sortBy?: string | undefined;
}

export interface Projection {
  attributes?: string | undefined;
  excludedAttributes?: string | undefined;
}

export interface PatchOperationInput {
  op: string;
  path?: string | undefined;
  value?: unknown;
}

type Resource = Record<string, unknown>;

const MAX_RESULTS = 1000;
const DEFAULT_COUNT = 100;
const USER_NAME = /^[^\u0000-\u001f\u007f/]{1,128}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** Attributes that are ours, not the client's: never stored from a request. */
const SERVER_OWNED = new Set(['id', 'meta', 'groups', 'active', 'password', 'schemas']);

const isObject = (v: unknown): v is Resource => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v : null);

/** Entra sends `active` as `"True"`/`"False"` as well as a boolean. */
export function parseActive(value: unknown): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === 'true';
  throw new AppError('scim.invalid_value', { detail: 'active must be a boolean' });
}

/** The column values a SCIM user resource implies. */
function columnsOf(r: Resource) {
  const userName = typeof r.userName === 'string' ? r.userName.trim() : '';
  if (!USER_NAME.test(userName)) throw new AppError('scim.invalid_value', { details: ['userName'], detail: 'unusable userName' });
  const name = isObject(r.name) ? r.name : {};
  const emails = Array.isArray(r.emails) ? r.emails.filter(isObject) : [];
  const email =
    emails.find((e) => e.primary === true || String(e.primary).toLowerCase() === 'true') ??
    emails.find((e) => String(e.type).toLowerCase() === 'work') ??
    emails[0];
  const emailValue = str(email?.value)?.trim() ?? null;
  const phones = Array.isArray(r.phoneNumbers) ? r.phoneNumbers.filter(isObject) : [];
  const mobile = phones.find((p) => String(p.type).toLowerCase() === 'mobile');
  const phone = phones.find((p) => String(p.type).toLowerCase() === 'work') ?? phones.find((p) => p !== mobile);
  const enterprise = isObject(r[SCIM.enterprise]) ? (r[SCIM.enterprise] as Resource) : {};
  return {
    userName,
    externalId: str(r.externalId),
    email: emailValue && EMAIL.test(emailValue) ? emailValue : null,
    firstName: str(name.givenName),
    lastName: str(name.familyName),
    title: str(r.title),
    phone: str(phone?.value),
    mobile: str(mobile?.value),
    department: str(enterprise.department),
  };
}

/** RFC 7643 §4.1 User attributes; with schema-extension (`urn:…`) keys, the only ones stored. */
const USER_ATTRIBUTES = new Set(
  [
    'userName',
    'name',
    'displayName',
    'nickName',
    'profileUrl',
    'title',
    'userType',
    'preferredLanguage',
    'locale',
    'timezone',
    'emails',
    'phoneNumbers',
    'ims',
    'photos',
    'addresses',
    'entitlements',
    'roles',
    'x509Certificates',
    'externalId',
  ].map((a) => a.toLowerCase()),
);

/**
 * What is stored: the resource as sent, without what the server owns. Attributes no schema defines
 * are ignored (RFC 7644 §3.3), so nothing arbitrary is kept and echoed back.
 */
function storable(r: Resource): ScimAttributes {
  const out: ScimAttributes = {};
  for (const [k, v] of Object.entries(r)) {
    const key = k.toLowerCase();
    if (v !== undefined && !SERVER_OWNED.has(key) && (USER_ATTRIBUTES.has(key) || key.startsWith('urn:'))) out[k] = v;
  }
  const schemas = Array.isArray(r.schemas) ? r.schemas.filter((s): s is string => typeof s === 'string') : [];
  out.schemas = schemas.length ? schemas : [SCIM.user];
  return out;
}

/** A resource for a user that was never provisioned through SCIM, from its columns. */
function derivedResource(u: User): ScimAttributes {
  const name = { ...(u.firstName ? { givenName: u.firstName } : {}), ...(u.lastName ? { familyName: u.lastName } : {}) };
  const displayName = [u.firstName, u.lastName].filter(Boolean).join(' ');
  const phones = [...(u.phone ? [{ value: u.phone, type: 'work' }] : []), ...(u.mobile ? [{ value: u.mobile, type: 'mobile' }] : [])];
  return {
    schemas: u.department ? [SCIM.user, SCIM.enterprise] : [SCIM.user],
    ...(Object.keys(name).length ? { name } : {}),
    ...(displayName ? { displayName } : {}),
    ...(u.title ? { title: u.title } : {}),
    ...(u.email ? { emails: [{ value: u.email, type: 'work', primary: true }] } : {}),
    ...(phones.length ? { phoneNumbers: phones } : {}),
    ...(u.department ? { [SCIM.enterprise]: { department: u.department } } : {}),
  };
}

/** Top-level attribute a path or attribute name addresses (`name.givenName` → `name`; URN paths → the URN). */
function topLevel(path: string): string {
  const bare = path.replace(/\[.*?\]/g, '');
  if (/^urn:/i.test(bare)) {
    const colon = bare.lastIndexOf(':');
    return bare.slice(0, colon).toLowerCase();
  }
  return (bare.split('.')[0] ?? '').toLowerCase();
}

/** `attributes` / `excludedAttributes` (RFC 7644 §3.9), on top-level attributes. */
function project(resource: Resource, p: Projection): Resource {
  const split = (s: string | undefined) =>
    (s ?? '')
      .split(',')
      .map((a) => a.trim().toLowerCase())
      .filter(Boolean);
  // Asking for a sub-attribute (`name.givenName`, `urn:…:User:department`) returns its whole top-level attribute.
  const only = split(p.attributes).flatMap((a) => [a, topLevel(a)]);
  // Only whole top-level attributes are excluded (`members`, `urn:…:enterprise:2.0:User`).
  const excluded = new Set(split(p.excludedAttributes));
  const always = new Set(['schemas', 'id', 'meta']);
  const out: Resource = {};
  for (const [k, v] of Object.entries(resource)) {
    const key = k.toLowerCase();
    if (!always.has(key) && excluded.has(key)) continue;
    if (only.length && !always.has(key) && !only.includes(key)) continue;
    out[k] = v;
  }
  return out;
}

const clamp = (params: ListParams) => ({
  start: Math.max(1, params.startIndex ?? 1),
  count: Math.min(MAX_RESULTS, Math.max(0, params.count ?? DEFAULT_COUNT)),
});

function scimPatchError(err: unknown): AppError {
  const code = (err as { scimCode?: string }).scimCode;
  const map: Record<string, ErrorCode> = {
    noTarget: 'scim.no_target',
    invalidPath: 'scim.invalid_path',
    invalidValue: 'scim.invalid_value',
    mutability: 'scim.mutability',
  };
  return new AppError((code && map[code]) || 'scim.invalid_syntax', { detail: (err as Error).message, cause: err });
}

/** SCIM 2.0 Users and Groups (RFC 7643/7644) over Portcullis users, as Microsoft Entra ID provisions them. */
export function createScimService(deps: ScimDeps) {
  const { repo, users, audit, baseUrl } = deps;

  function orgOf(ctx: RequestContext): string {
    const p = ctx.principal;
    assertThat(p, 'auth.unauthenticated');
    assertThat(p.scopes.has('users:write'), 'auth.forbidden', 'missing scope users:write');
    return p.organizationId;
  }

  /** A user of the caller's organization that is not deleted; otherwise 404, as for ids that never existed. */
  async function findUser(organizationId: string, id: string): Promise<User> {
    const user = await users.lookup.findById(id);
    if (!user || user.organizationId !== organizationId || user.state === 'DELETED') {
      throw new AppError('resource.not_found', { detail: 'no such SCIM user' });
    }
    return user;
  }

  async function findGroup(organizationId: string, id: string): Promise<DirectoryGroup> {
    const group = await repo.findGroupById(organizationId, id);
    if (!group) throw new AppError('resource.not_found', { detail: 'no such SCIM group' });
    return group;
  }

  function toScimUser(u: User, stored: { resource: ScimAttributes; updatedAt: string } | undefined, groups: GroupMembership[]): Resource {
    const base = stored?.resource ?? derivedResource(u);
    const schemas = Array.isArray(base.schemas) ? (base.schemas as string[]) : [SCIM.user];
    const rest: Resource = {};
    for (const [k, v] of Object.entries(base))
      if (!SERVER_OWNED.has(k.toLowerCase()) && k !== 'userName' && k !== 'externalId') rest[k] = v;
    const lastModified = stored && stored.updatedAt > u.updatedAt ? stored.updatedAt : u.updatedAt;
    return {
      schemas: [SCIM.user, ...schemas.filter((s) => s !== SCIM.user)],
      id: u.id,
      ...(u.externalId !== null ? { externalId: u.externalId } : {}),
      userName: u.userName,
      ...rest,
      active: u.state === 'ACTIVE',
      ...(groups.length
        ? { groups: groups.map((g) => ({ value: g.groupId, display: g.displayName, $ref: `${baseUrl}/Groups/${g.groupId}` })) }
        : {}),
      meta: { resourceType: 'User', created: u.createdAt, lastModified, location: `${baseUrl}/Users/${u.id}` },
    };
  }

  async function presentUsers(list: User[]): Promise<Resource[]> {
    const ids = list.map((u) => u.id);
    const [stored, memberships] = await Promise.all([repo.findResources(ids), repo.membershipsOf(ids)]);
    return list.map((u) =>
      toScimUser(
        u,
        stored.get(u.id),
        memberships.filter((m) => m.userId === u.id),
      ),
    );
  }

  async function presentUser(u: User): Promise<ScimUserOut> {
    return (await presentUsers([u]))[0] as ScimUserOut;
  }

  /** Users that may match the filter: narrowed by an indexed `eq` when the filter has one. */
  async function userCandidates(organizationId: string, filter: ReturnType<typeof parseFilter>): Promise<User[]> {
    const keep = (u: User | undefined): u is User => !!u && u.organizationId === organizationId && u.state !== 'DELETED';
    const id = eqHint(filter, 'id');
    if (id !== undefined) return [await users.lookup.findById(id)].filter(keep);
    const userName = eqHint(filter, 'userName');
    if (userName !== undefined) return [await users.lookup.findByUserName(userName)].filter(keep);
    const externalId = eqHint(filter, 'externalId');
    if (externalId !== undefined) return (await users.lookup.list({ organizationId, externalId, limit: 2 })).filter(keep);
    const all: User[] = [];
    let after: { createdAt: string; id: string } | undefined;
    for (;;) {
      const page = await users.lookup.list({ organizationId, limit: 500, ...(after ? { after } : {}) });
      all.push(...page.filter(keep));
      const last = page[page.length - 1];
      if (page.length < 500 || !last) break;
      after = { createdAt: last.createdAt, id: last.id };
    }
    return all;
  }

  /**
   * Writes a whole SCIM user onto the user (PUT, and PATCH after applying its operations):
   * mapped attributes go to the user's columns through the users service (audited; leaving
   * ACTIVE runs the deactivation hooks, which revoke sessions), the resource is kept as sent.
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
    await users.update(ctx, user.id, set);
    const now = ctx.now.toISOString();
    await repo.upsertResource(user.id, user.organizationId, storable(resource), now);
    return (await users.lookup.findById(user.id)) as User;
  }

  /** Keeps each member's `groups` (names) in step with its memberships; names of other origins stay. */
  async function syncGroupNames(
    ctx: RequestContext,
    organizationId: string,
    userIds: readonly string[],
    formerNames: string[] = [],
  ): Promise<void> {
    if (!userIds.length) return;
    const managed = new Set(
      [...(await repo.listGroups(organizationId)).map((g) => g.displayName), ...formerNames].map((n) => n.toLowerCase()),
    );
    const memberships = await repo.membershipsOf(userIds);
    for (const userId of new Set(userIds)) {
      const user = await users.lookup.findById(userId);
      if (!user) continue;
      const mine = memberships.filter((m) => m.userId === userId).map((m) => m.displayName);
      const next = [...user.groups.filter((n) => !managed.has(n.toLowerCase())), ...mine];
      await users.setGroups(ctx, user, next);
    }
  }

  /** Member ids of a request: each must be a user of the organization. */
  async function memberIdsOf(organizationId: string, value: unknown): Promise<string[]> {
    const items = value === undefined || value === null ? [] : Array.isArray(value) ? value : [value];
    const ids: string[] = [];
    for (const item of items) {
      const id = isObject(item) ? item.value : undefined;
      if (typeof id !== 'string') throw new AppError('scim.invalid_value', { details: ['members'], detail: 'member without value' });
      const user = await users.lookup.findById(id);
      if (!user || user.organizationId !== organizationId || user.state === 'DELETED') {
        throw new AppError('scim.invalid_value', { details: ['members'], detail: 'member is not a user of this organization' });
      }
      if (!ids.includes(id)) ids.push(id);
    }
    return ids;
  }

  async function presentGroups(groups: DirectoryGroup[], withMembers: boolean): Promise<Resource[]> {
    const members = withMembers ? await repo.memberIds(groups.map((g) => g.id)) : undefined;
    const names = new Map<string, string>();
    if (members) {
      for (const id of new Set([...members.values()].flat())) {
        const u = await users.lookup.findById(id);
        if (u) names.set(id, u.userName);
      }
    }
    return groups.map((g) => ({
      schemas: [SCIM.group],
      id: g.id,
      ...(g.externalId !== null ? { externalId: g.externalId } : {}),
      displayName: g.displayName,
      ...g.extra,
      ...(members
        ? {
            members: (members.get(g.id) ?? []).map((id) => ({
              value: id,
              ...(names.has(id) ? { display: names.get(id) } : {}),
              $ref: `${baseUrl}/Users/${id}`,
            })),
          }
        : {}),
      meta: { resourceType: 'Group', created: g.createdAt, lastModified: g.updatedAt, location: `${baseUrl}/Groups/${g.id}` },
    }));
  }

  const excludesMembers = (p: Projection): boolean =>
    (p.excludedAttributes ?? '')
      .split(',')
      .map((a) => topLevel(a.trim()))
      .includes('members') ||
    (!!p.attributes &&
      !p.attributes
        .split(',')
        .map((a) => topLevel(a.trim()))
        .includes('members'));

  // RFC 7643 §4.2: a Group has displayName, members and externalId; only schema extensions (`urn:…`)
  // are kept beside them. Other attributes are ignored (RFC 7644 §3.3), never stored and echoed.
  const groupExtra = (r: Resource): ScimAttributes => {
    const out: ScimAttributes = {};
    for (const [k, v] of Object.entries(r)) if (k.toLowerCase().startsWith('urn:') && v !== undefined) out[k] = v;
    return out;
  };

  function checkDisplayName(value: unknown): string {
    const name = typeof value === 'string' ? value.trim() : '';
    if (!name || name.length > 256) throw new AppError('scim.invalid_value', { details: ['displayName'], detail: 'unusable displayName' });
    return name;
  }

  /** Applies a group's new state: row, memberships, and the members' `groups` names. */
  async function saveGroup(
    ctx: RequestContext,
    before: DirectoryGroup,
    next: { displayName: string; externalId: string | null; extra: ScimAttributes },
    members: { add: string[]; remove: string[] },
  ): Promise<void> {
    const now = ctx.now.toISOString();
    const renamed = next.displayName !== before.displayName;
    const changed = renamed || next.externalId !== before.externalId || JSON.stringify(next.extra) !== JSON.stringify(before.extra);
    if (changed || members.add.length || members.remove.length) await repo.updateGroup(before.id, { ...next, updatedAt: now });
    await repo.removeMembers(before.id, members.remove);
    await repo.addMembers(before.id, members.add, now);
    const current = renamed ? ((await repo.memberIds([before.id])).get(before.id) ?? []) : [];
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

  /** Turns Entra's no-path operations (`{op, value: {"name.givenName": …}}`) into one operation per attribute. */
  function normalizeUserOps(ops: PatchOperationInput[], schemas: string[]): ScimPatchOperation[] {
    const out: ScimPatchOperation[] = [];
    const known = new Set([SCIM.user, SCIM.enterprise, ...schemas].map((s) => s.toLowerCase()));
    const push = (op: string, path: string, value: unknown) => {
      const top = topLevel(path);
      if (top === 'password') return; // passwords are never provisioned through SCIM
      if (['id', 'meta', 'groups', 'schemas'].includes(top)) {
        throw new AppError('scim.mutability', { detail: `${top} is read-only` });
      }
      out.push((op === 'remove' ? { op, path, ...(value !== undefined ? { value } : {}) } : { op, path, value }) as ScimPatchOperation);
    };
    for (const o of ops) {
      const op = o.op.trim().toLowerCase();
      if (op !== 'add' && op !== 'replace' && op !== 'remove') throw new AppError('scim.invalid_syntax', { detail: `unknown op ${o.op}` });
      const path = o.path?.trim();
      if (path) {
        push(op, path, o.value);
        continue;
      }
      if (op === 'remove') throw new AppError('scim.no_target', { detail: 'remove without path' });
      if (!isObject(o.value)) throw new AppError('scim.invalid_syntax', { detail: 'an operation without path needs an object value' });
      for (const [key, value] of Object.entries(o.value)) {
        if (known.has(key.toLowerCase()) && isObject(value)) {
          const prefix = key.toLowerCase() === SCIM.user.toLowerCase() ? '' : `${key}:`;
          for (const [sub, v] of Object.entries(value)) push(op, `${prefix}${sub}`, v);
        } else {
          push(op, key, value);
        }
      }
    }
    return out;
  }

  const docs = discoveryDocuments(baseUrl);
  const listOf = (resources: unknown[]) => ({
    schemas: [SCIM.list],
    totalResults: resources.length,
    startIndex: 1,
    itemsPerPage: resources.length,
    Resources: resources as Resource[],
  });

  return {
    serviceProviderConfig: () => docs.serviceProviderConfig,
    resourceTypes: () => listOf(docs.resourceTypes),
    resourceType(name: string) {
      const found = docs.resourceTypes.find((r) => r.id.toLowerCase() === name.toLowerCase());
      if (!found) throw new AppError('resource.not_found');
      return found;
    },
    schemas: () => listOf(docs.schemas),
    schema(id: string) {
      const found = docs.schemas.find((s) => s.id.toLowerCase() === id.toLowerCase());
      if (!found) throw new AppError('resource.not_found');
      return found;
    },

    async listUsers(ctx: RequestContext, params: ListParams) {
      const organizationId = orgOf(ctx);
      assertSafeAttributeParams(params);
      const filter = parseFilter(params.filter);
      const presented = await presentUsers(await userCandidates(organizationId, filter));
      const matched = filter ? presented.filter((r) => matches(r, filter)) : presented;
      const { start, count } = clamp(params);
      const page = matched.slice(start - 1, start - 1 + count).map((r) => project(r, params) as ScimUserOut);
      return { schemas: [SCIM.list], totalResults: matched.length, startIndex: start, itemsPerPage: page.length, Resources: page };
    },

    async getUser(ctx: RequestContext, id: string, projection: Projection = {}) {
      const organizationId = orgOf(ctx);
      assertSafeAttributeParams(projection);
      return project(await presentUser(await findUser(organizationId, id)), projection) as ScimUserOut;
    },

    /** POST /Users. `password` is ignored; `active: false` creates the user suspended. */
    async createUser(ctx: RequestContext, body: Resource) {
      orgOf(ctx);
      assertSafeKeys(body);
      const cols = columnsOf(body);
      const active = parseActive(body.active);
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
      return presentUser((await users.lookup.findById(user.id)) as User);
    },

    /** PUT /Users/{id}: the body replaces the resource. */
    async replaceUser(ctx: RequestContext, id: string, body: Resource) {
      const user = await findUser(orgOf(ctx), id);
      assertSafeKeys(body);
      if (body.id !== undefined && body.id !== id) throw new AppError('scim.mutability', { detail: 'id cannot change' });
      return presentUser(await writeUser(ctx, user, body));
    },

    /** PATCH /Users/{id} (RFC 7644 §3.5.2), including Entra's `"False"` and no-path forms. */
    async patchUser(ctx: RequestContext, id: string, operations: PatchOperationInput[]) {
      const user = await findUser(orgOf(ctx), id);
      assertSafePatch(operations);
      const { groups: _groups, ...current } = await presentUser(user);
      const ops = normalizeUserOps(operations, (current.schemas as string[]) ?? []);
      // Why: these are exactly what scim-patch walks; checked again after normalization so that no
      // path composed from keys can reach it unchecked.
      assertSafePatch(ops);
      let next: Resource;
      try {
        next = scimPatch(current as never, ops, { mutateDocument: false, treatMissingAsAdd: true }) as unknown as Resource;
      } catch (err) {
        throw scimPatchError(err);
      }
      return presentUser(await writeUser(ctx, user, next));
    },

    /** DELETE /Users/{id}: the user is deleted (soft, as everywhere in Portcullis) and leaves its groups. */
    async deleteUser(ctx: RequestContext, id: string) {
      const user = await findUser(orgOf(ctx), id);
      await users.remove(ctx, user.id);
      await repo.removeUserEverywhere(user.id);
      await repo.deleteResource(user.id);
    },

    async listGroups(ctx: RequestContext, params: ListParams) {
      const organizationId = orgOf(ctx);
      assertSafeAttributeParams(params);
      const filter = parseFilter(params.filter);
      const hint = {
        ...(eqHint(filter, 'displayName') !== undefined ? { displayName: eqHint(filter, 'displayName') } : {}),
        ...(eqHint(filter, 'externalId') !== undefined ? { externalId: eqHint(filter, 'externalId') } : {}),
        ...(eqHint(filter, 'id') !== undefined ? { id: eqHint(filter, 'id') } : {}),
      };
      const candidates = await repo.listGroups(organizationId, hint);
      // Members are only loaded when the filter or the response needs them.
      const needMembers = !excludesMembers(params) || /members/i.test(params.filter ?? '');
      const presented = await presentGroups(candidates, needMembers);
      const matched = filter ? presented.filter((r) => matches(r, filter)) : presented;
      const { start, count } = clamp(params);
      const page = matched.slice(start - 1, start - 1 + count).map((r) => project(r, params) as ScimGroupOut);
      return { schemas: [SCIM.list], totalResults: matched.length, startIndex: start, itemsPerPage: page.length, Resources: page };
    },

    async getGroup(ctx: RequestContext, id: string, projection: Projection = {}) {
      const group = await findGroup(orgOf(ctx), id);
      assertSafeAttributeParams(projection);
      return project((await presentGroups([group], !excludesMembers(projection)))[0] as Resource, projection) as ScimGroupOut;
    },

    async createGroup(ctx: RequestContext, body: Resource) {
      const organizationId = orgOf(ctx);
      assertSafeKeys(body);
      const displayName = checkDisplayName(body.displayName);
      const members = await memberIdsOf(organizationId, body.members);
      const now = ctx.now.toISOString();
      const group: DirectoryGroup = {
        id: newId(),
        organizationId,
        displayName,
        externalId: str(body.externalId),
        extra: groupExtra(body),
        createdAt: now,
        updatedAt: now,
      };
      await repo.insertGroup(group);
      await repo.addMembers(group.id, members, now);
      await syncGroupNames(ctx, organizationId, members);
      await audit.record(ctx, {
        action: 'directory.group_created',
        organizationId,
        targetType: 'group',
        targetId: group.id,
        data: { members: members.length },
      });
      return (await presentGroups([group], true))[0] as ScimGroupOut;
    },

    /** PUT /Groups/{id}: name, externalId and members are replaced (absent members means none). */
    async replaceGroup(ctx: RequestContext, id: string, body: Resource) {
      const organizationId = orgOf(ctx);
      const before = await findGroup(organizationId, id);
      assertSafeKeys(body);
      if (body.id !== undefined && body.id !== id) throw new AppError('scim.mutability', { detail: 'id cannot change' });
      const wanted = await memberIdsOf(organizationId, body.members);
      const current = (await repo.memberIds([id])).get(id) ?? [];
      await saveGroup(
        ctx,
        before,
        { displayName: checkDisplayName(body.displayName), externalId: str(body.externalId), extra: groupExtra(body) },
        { add: wanted.filter((m) => !current.includes(m)), remove: current.filter((m) => !wanted.includes(m)) },
      );
      return (await presentGroups([await findGroup(organizationId, id)], true))[0] as ScimGroupOut;
    },

    /**
     * PATCH /Groups/{id}: `displayName`/`externalId` replace, members added and removed by value
     * list or by `members[value eq "…"]` path. Removing a member that is not there is a no-op.
     */
    async patchGroup(ctx: RequestContext, id: string, operations: PatchOperationInput[]) {
      const organizationId = orgOf(ctx);
      const before = await findGroup(organizationId, id);
      assertSafePatch(operations);
      const current = new Set((await repo.memberIds([id])).get(id) ?? []);
      const members = new Set(current);
      const next = { displayName: before.displayName, externalId: before.externalId, extra: { ...before.extra } };

      const setAttribute = async (op: string, key: string, value: unknown): Promise<void> => {
        const k = key.toLowerCase();
        if (k === 'displayname') {
          if (op === 'remove') throw new AppError('scim.mutability', { detail: 'displayName is required' });
          next.displayName = checkDisplayName(value);
        } else if (k === 'externalid') {
          next.externalId = op === 'remove' ? null : str(value);
        } else if (k === 'members') {
          if (op === 'replace') members.clear();
          if (op === 'remove' && (value === undefined || value === null)) members.clear();
          else if (op === 'remove')
            for (const m of Array.isArray(value) ? value : [value]) members.delete(String(isObject(m) ? m.value : m));
          else for (const m of await memberIdsOf(organizationId, value)) members.add(m);
        } else if (['id', 'meta', 'schemas'].includes(k)) {
          throw new AppError('scim.mutability', { detail: `${key} is read-only` });
        } else if (!k.startsWith('urn:')) {
          // an attribute no schema defines: ignored, as on create
        } else if (op === 'remove') {
          delete next.extra[key];
        } else {
          next.extra[key] = value;
        }
      };

      for (const o of operations) {
        const op = o.op.trim().toLowerCase();
        if (op !== 'add' && op !== 'replace' && op !== 'remove')
          throw new AppError('scim.invalid_syntax', { detail: `unknown op ${o.op}` });
        const path = o.path?.trim();
        if (!path) {
          if (op === 'remove') throw new AppError('scim.no_target', { detail: 'remove without path' });
          if (!isObject(o.value)) throw new AppError('scim.invalid_syntax', { detail: 'an operation without path needs an object value' });
          for (const [key, value] of Object.entries(o.value)) await setAttribute(op, key, value);
          continue;
        }
        const filtered = /^members\[\s*value\s+eq\s+"((?:[^"\\]|\\.)*)"\s*\]$/i.exec(path);
        if (filtered) {
          if (op !== 'remove') throw new AppError('scim.invalid_path', { detail: 'a member filter is only valid for remove' });
          members.delete(JSON.parse(`"${filtered[1]}"`) as string);
          continue;
        }
        if (path.includes('[') || path.includes('.')) throw new AppError('scim.invalid_path', { detail: `unsupported path ${path}` });
        await setAttribute(op, path, o.value);
      }
      await saveGroup(ctx, before, next, {
        add: [...members].filter((m) => !current.has(m)),
        remove: [...current].filter((m) => !members.has(m)),
      });
    },

    async deleteGroup(ctx: RequestContext, id: string) {
      const organizationId = orgOf(ctx);
      const group = await findGroup(organizationId, id);
      const members = (await repo.memberIds([id])).get(id) ?? [];
      await repo.deleteGroup(id);
      await syncGroupNames(ctx, organizationId, members, [group.displayName]);
      await audit.record(ctx, { action: 'directory.group_deleted', organizationId, targetType: 'group', targetId: id });
    },
  };
}
export type ScimService = ReturnType<typeof createScimService>;
