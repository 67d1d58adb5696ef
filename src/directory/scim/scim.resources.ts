import Value from 'typebox/value';
import { AppError } from '../../errors/index.js';
import type { User } from '../../identity/index.js';
import type { DirectoryGroup, GroupMembership, ScimAttributes } from './scim.repo.js';
import { SCIM, ScimUserAttributes } from './scim.schemas.js';

/**
 * SCIM resources (RFC 7643) and Portcullis rows, both ways: what a resource maps onto a user's
 * columns, what of it is stored, how users and groups are presented, and `attributes` /
 * `excludedAttributes`. Pure functions: no I/O.
 */

/** A SCIM resource (or any JSON object of one). */
export type Resource = Record<string, unknown>;

/** `attributes` / `excludedAttributes` (RFC 7644 §3.9). */
export interface Projection {
  attributes?: string | undefined;
  excludedAttributes?: string | undefined;
}

/** A user's SCIM resource as stored, with when it was last written. */
export interface StoredResource {
  resource: ScimAttributes;
  updatedAt: string;
}

const USER_NAME = /^[^\u0000-\u001f\u007f/]{1,128}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** Attributes that are ours, not the client's: never stored from a request. */
const SERVER_OWNED = new Set(['id', 'meta', 'groups', 'active', 'password', 'schemas']);

/** True for a JSON object (not an array, not null). */
export const isObject = (v: unknown): v is Resource => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A non-blank string as sent, else null. */
export const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v : null);
const lower = (s: string): string => s.toLowerCase();

/** Entra sends `active` as `"True"`/`"False"` as well as a boolean. */
export function parseActive(value: unknown): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === 'true';
  throw new AppError('scim.invalid_value', { detail: 'active must be a boolean' });
}

/** The user columns a SCIM user resource maps onto (see docs/directory.md). */
export interface UserColumns {
  userName: string;
  externalId: string | null;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  title: string | null;
  phone: string | null;
  mobile: string | null;
  department: string | null;
}

/** The column values a SCIM user resource implies; an unusable `userName` is `scim.invalid_value`. */
export function columnsOf(r: Resource): UserColumns {
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
  ].map(lower),
);

/**
 * What is stored: the resource as sent, without what the server owns. Attributes no schema defines
 * are ignored (RFC 7644 §3.3), so nothing arbitrary is kept and echoed back.
 */
export function storable(r: Resource): ScimAttributes {
  const out: ScimAttributes = {};
  for (const [k, v] of Object.entries(r)) {
    const key = k.toLowerCase();
    // null is "unassigned" (RFC 7644 §3.5.1): not kept.
    if (v !== undefined && v !== null && !SERVER_OWNED.has(key) && (USER_ATTRIBUTES.has(key) || key.startsWith('urn:'))) {
      out[k] = normalizePrimary(v);
    }
  }
  // Why: what is kept is answered as the documented RFC 7643 types (a PATCH value skips the body's schema).
  const kept: unknown = out;
  if (!Value.Check(ScimUserAttributes, kept)) {
    const first = Value.Errors(ScimUserAttributes, kept)[0];
    const where = first?.instancePath.replace(/^\//, '').replace(/\//g, '.') || 'resource';
    throw new AppError('scim.invalid_value', { details: [where.slice(0, 256)], detail: 'attribute of the wrong type' });
  }
  const schemas = Array.isArray(r.schemas) ? r.schemas.filter((s): s is string => typeof s === 'string') : [];
  out.schemas = schemas.length ? schemas : [SCIM.user];
  return out;
}

/** Entra's `"primary": "True"` in multi-valued attributes, as the boolean RFC 7643 defines. */
function normalizePrimary(v: unknown): unknown {
  if (!Array.isArray(v)) return v;
  return v.map((item) =>
    isObject(item) && typeof item.primary === 'string' && /^(true|false)$/i.test(item.primary)
      ? { ...item, primary: item.primary.toLowerCase() === 'true' }
      : item,
  );
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

/**
 * A user as a SCIM resource: its stored resource (or one derived from its columns), with the
 * server's `id`, `userName`, `externalId`, `active`, `groups` and `meta` from the user and its
 * memberships.
 */
export function toScimUser(u: User, stored: StoredResource | undefined, groups: readonly GroupMembership[], baseUrl: string): Resource {
  const base = stored?.resource ?? derivedResource(u);
  const schemas = Array.isArray(base.schemas) ? (base.schemas as string[]) : [SCIM.user];
  const rest: Resource = {};
  for (const [k, v] of Object.entries(base)) if (!SERVER_OWNED.has(k.toLowerCase()) && k !== 'userName' && k !== 'externalId') rest[k] = v;
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

/**
 * A group as a SCIM resource. With `members` (its member ids), they are listed with `names`
 * (user names by id) as `display`; without, the resource has no `members` attribute.
 */
export function toScimGroup(
  g: DirectoryGroup,
  members: readonly string[] | undefined,
  names: ReadonlyMap<string, string>,
  baseUrl: string,
): Resource {
  return {
    schemas: [SCIM.group],
    id: g.id,
    ...(g.externalId !== null ? { externalId: g.externalId } : {}),
    displayName: g.displayName,
    ...g.extra,
    ...(members
      ? {
          members: members.map((id) => ({
            value: id,
            ...(names.has(id) ? { display: names.get(id) } : {}),
            $ref: `${baseUrl}/Users/${id}`,
          })),
        }
      : {}),
    meta: { resourceType: 'Group', created: g.createdAt, lastModified: g.updatedAt, location: `${baseUrl}/Groups/${g.id}` },
  };
}

/** Top-level attribute a path or attribute name addresses (`name.givenName` → `name`; URN paths → the URN). */
export function topLevel(path: string): string {
  const bare = path.replace(/\[.*?\]/g, '');
  if (/^urn:/i.test(bare)) {
    const colon = bare.lastIndexOf(':');
    return bare.slice(0, colon).toLowerCase();
  }
  return (bare.split('.')[0] ?? '').toLowerCase();
}

const attributeList = (s: string | undefined): string[] =>
  (s ?? '')
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);

/** `attributes` / `excludedAttributes` (RFC 7644 §3.9), on top-level attributes. */
export function project(resource: Resource, p: Projection): Resource {
  // Asking for a sub-attribute (`name.givenName`, `urn:…:User:department`) returns its whole top-level attribute.
  const only = attributeList(p.attributes)
    .map(lower)
    .flatMap((a) => [a, topLevel(a)]);
  // Only whole top-level attributes are excluded (`members`, `urn:…:enterprise:2.0:User`).
  const excluded = new Set(attributeList(p.excludedAttributes).map(lower));
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

/** True when a projection leaves a group's `members` out (so they need not be read). */
export function excludesMembers(p: Projection): boolean {
  const tops = (s: string | undefined) => (s ?? '').split(',').map((a) => topLevel(a.trim()));
  return tops(p.excludedAttributes).includes('members') || (!!p.attributes && !tops(p.attributes).includes('members'));
}

/**
 * RFC 7643 §4.2: a Group has displayName, members and externalId; only schema extensions (`urn:…`)
 * are kept beside them. Other attributes are ignored (RFC 7644 §3.3), never stored and echoed.
 */
export function groupExtra(r: Resource): ScimAttributes {
  const out: ScimAttributes = {};
  for (const [k, v] of Object.entries(r)) if (k.toLowerCase().startsWith('urn:') && v !== undefined) out[k] = v;
  return out;
}

/** A usable group `displayName` (trimmed, 1–256 characters), else `scim.invalid_value`. */
export function checkDisplayName(value: unknown): string {
  const name = typeof value === 'string' ? value.trim() : '';
  if (!name || name.length > 256) throw new AppError('scim.invalid_value', { details: ['displayName'], detail: 'unusable displayName' });
  return name;
}
