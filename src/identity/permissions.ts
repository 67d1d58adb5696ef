/** Named permissions. Routes declare the scopes they need; principals carry the scopes they hold. */
export const SCOPES = [
  'users:read',
  'users:write',
  'credentials:write',
  'apikeys:write',
  'idps:write',
  'logins:read',
  'logins:write',
  'logins:reveal',
  'audit:read',
] as const;
export type Scope = (typeof SCOPES)[number];

export const ROLES = ['superadmin', 'owner', 'admin', 'member'] as const;
export type Role = (typeof ROLES)[number];

/** Scopes that are only granted when named explicitly on an API key (never by default, never by bitmask). */
export const EXPLICIT_ONLY_SCOPES: readonly Scope[] = ['logins:reveal'];

/**
 * Babel Licensing Service's integer `permissions` (seed 001): Read 1, Write 2, Delete 4, Create 8.
 * Read grants the `:read` scopes; Write, Create and Delete grant the `:write` scopes.
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

/**
 * What a role may ever hold. Owners and admins hold every scope inside their organization;
 * members act only on themselves (their profile, their own API keys).
 */
export function grantableScopes(roles: readonly string[]): Set<Scope> {
  if (roles.some((r) => r === 'superadmin' || r === 'owner' || r === 'admin')) return new Set(SCOPES);
  return new Set<Scope>(['apikeys:write']);
}

/** What a role holds by default (a session, a key created without scopes): never the explicit-only ones. */
export function defaultScopes(roles: readonly string[]): Set<Scope> {
  const scopes = grantableScopes(roles);
  for (const s of EXPLICIT_ONLY_SCOPES) scopes.delete(s);
  return scopes;
}

export const isScope = (value: string): value is Scope => (SCOPES as readonly string[]).includes(value);
export const isRole = (value: string): value is Role => (ROLES as readonly string[]).includes(value);

/** Owners, admins and superadmins administer their organization. */
export const isAdministrator = (p: { isSuperadmin: boolean; roles: readonly string[] }): boolean =>
  p.isSuperadmin || p.roles.some((r) => r === 'owner' || r === 'admin');
