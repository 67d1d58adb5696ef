/** Named permissions. Routes declare the scopes they need; principals carry the scopes they hold. */
export const SCOPES = [
  'users:read',
  'users:write',
  'credentials:write',
  'apikeys:write',
  'profile:write',
  'organizations:write',
  'idps:write',
  'logins:read',
  'logins:write',
  'logins:reveal',
  'audit:read',
  'webhooks:read',
  'webhooks:write',
] as const;
export type Scope = (typeof SCOPES)[number];

/** From the highest rank to the lowest: superadmin > owner > admin > member. */
export const ROLES = ['superadmin', 'owner', 'admin', 'member'] as const;
export type Role = (typeof ROLES)[number];

/** Scopes that are only granted when named explicitly on an API key (never by default, never by bitmask). */
export const EXPLICIT_ONLY_SCOPES: readonly Scope[] = ['logins:reveal'];

/**
 * Babel Licensing Service's integer `permissions` (seed 001): Read 1, Write 2, Delete 4, Create 8.
 * Read grants the `:read` scopes; Write, Create and Delete grant the `:write` scopes (`profile:write`
 * included, so seed 001's clients keep updating their user's profile).
 */
export const PERMISSION_BITS = { read: 1, write: 2, delete: 4, create: 8 } as const;
const READ_SCOPES: readonly Scope[] = SCOPES.filter((s) => s.endsWith(':read'));
const WRITE_SCOPES: readonly Scope[] = SCOPES.filter((s) => s.endsWith(':write'));

export function scopesFromPermissions(bits: number): Scope[] {
  const scopes: Scope[] = [];
  if (bits & PERMISSION_BITS.read) scopes.push(...READ_SCOPES);
  if (bits & (PERMISSION_BITS.write | PERMISSION_BITS.delete | PERMISSION_BITS.create)) scopes.push(...WRITE_SCOPES);
  return scopes;
}

/** The bitmask a set of scopes corresponds to, for seed 001's `permissions` field. */
export function permissionsFromScopes(scopes: Iterable<Scope>): number {
  let bits = 0;
  for (const s of scopes) {
    if (s.endsWith(':read')) bits |= PERMISSION_BITS.read;
    if (s.endsWith(':write')) bits |= PERMISSION_BITS.write | PERMISSION_BITS.delete | PERMISSION_BITS.create;
  }
  return bits;
}

/** Scopes a member holds: their own profile and their own API keys. */
const MEMBER_SCOPES: readonly Scope[] = ['apikeys:write', 'profile:write'];

/**
 * What a role may ever hold. Owners, admins and superadmins hold every scope (the policy still
 * decides whom they may act on); members act only on themselves.
 */
export function grantableScopes(roles: readonly string[]): Set<Scope> {
  if (rankOf(roles) >= RANK.admin) return new Set(SCOPES);
  return new Set<Scope>(MEMBER_SCOPES);
}

/** What a role holds by default (a session, a key created without scopes): never the explicit-only ones. */
export function defaultScopes(roles: readonly string[]): Set<Scope> {
  const scopes = grantableScopes(roles);
  for (const s of EXPLICIT_ONLY_SCOPES) scopes.delete(s);
  return scopes;
}

export const isScope = (value: string): value is Scope => (SCOPES as readonly string[]).includes(value);
export const isRole = (value: string): value is Role => (ROLES as readonly string[]).includes(value);

/** Numeric ranks: a higher number outranks a lower one. */
export const RANK = { member: 1, admin: 2, owner: 3, superadmin: 4 } as const satisfies Record<Role, number>;

/** The rank of a set of roles: its highest role (a user with no known role ranks as a member). */
export function rankOf(roles: readonly string[]): number {
  let rank: number = RANK.member;
  for (const r of roles) if (isRole(r) && RANK[r] > rank) rank = RANK[r];
  return rank;
}
