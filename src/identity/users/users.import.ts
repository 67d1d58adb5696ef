import type { AuditService } from '../../audit/index.js';
import { authorize, can, type Decision, inOrganization, isRole, type RequestContext, rankOf, userTarget } from '../../auth/index.js';
import { newId } from '../../crypto/index.js';
import { AppError, assertThat } from '../../errors/index.js';
import type { EventBus } from '../../events/index.js';
import { UniqueViolation } from '../../storage/index.js';
import type { SettingsRepo } from './settings.repo.js';
import type { User, UserPatch, UserState, UsersRepo } from './users.repo.js';

/** One user of an import file, checked and with its password hash already in canonical form. */
export interface ImportedUser {
  /** Where it came from (a line of JSON lines, an element of an array), for the per-line errors. */
  line: number;
  userName: string;
  email?: string | null | undefined;
  emailVerified?: boolean | undefined;
  firstName?: string | null | undefined;
  lastName?: string | null | undefined;
  phone?: string | null | undefined;
  title?: string | null | undefined;
  department?: string | null | undefined;
  mobile?: string | null | undefined;
  externalId?: string | null | undefined;
  adSid?: string | null | undefined;
  roles?: string[] | undefined;
  groups?: string[] | undefined;
  state?: 'ACTIVE' | 'SUSPENDED' | undefined;
  /** A canonical hash (`normalizeForeignHash`): stored as given, never returned. */
  passwordHash?: string | undefined;
  requireResetPassword?: boolean | undefined;
  userAttributes?: Record<string, string> | undefined;
  profileSource?: string | undefined;
}

/** A line the import refused, and why (`field` is the record's field, `reason` plain words). */
export interface ImportLineError {
  line: number;
  field: string;
  reason: string;
}

export interface ImportOptions {
  /** Check and count, write nothing. */
  dryRun?: boolean | undefined;
  /** Replace a password the user already set or signed in with (otherwise only a missing or still-imported hash is replaced). */
  replacePasswords?: boolean | undefined;
}

export interface ImportBatchResult {
  created: number;
  updated: number;
  unchanged: number;
  errors: ImportLineError[];
}

export interface ImportDeps {
  repo: UsersRepo;
  settings: SettingsRepo;
  transaction: <T>(fn: () => Promise<T>) => Promise<T>;
  audit: AuditService;
  events: EventBus;
}

const PROFILE = ['email', 'firstName', 'lastName', 'phone', 'title', 'department', 'mobile', 'externalId', 'adSid'] as const;

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** What a refusal of the policy says on the line (never the internal reason). */
const refusal = (d: Decision & { allow: false }): string =>
  d.code === 'user.last_owner' ? 'would remove the last owner of the organization' : 'the importer may not make this change (policy)';

/**
 * The users-table half of an import: matches each record to an existing user by external id
 * (inside the organization), user name or email (instance-wide, as they are unique), creates or
 * updates, and asks the policy for each line. A re-run of the same file changes nothing: a record
 * equal to its user is `unchanged` and writes nothing.
 *
 * One transaction per batch, with one bulk insert; one audit record per batch (`user.imported`,
 * with the counts) rather than one per user.
 */
export async function importUserBatch(
  deps: ImportDeps,
  ctx: RequestContext,
  organizationId: string,
  records: readonly ImportedUser[],
  options: ImportOptions = {},
): Promise<ImportBatchResult> {
  const p = ctx.principal;
  assertThat(p, 'auth.unauthenticated');
  authorize(p, 'user.import', inOrganization(organizationId));
  const errors: ImportLineError[] = [];
  const now = ctx.now.toISOString();
  const lower = (s: string) => s.trim().toLowerCase();

  const existing = await deps.repo.findByImportKeys(organizationId, {
    userNames: records.map((r) => r.userName.trim()),
    emails: records.flatMap((r) => (r.email ? [lower(r.email)] : [])),
    externalIds: records.flatMap((r) => (r.externalId ? [r.externalId] : [])),
  });
  const byName = new Map(existing.map((u) => [u.userName.toLowerCase(), u]));
  const byEmail = new Map(existing.flatMap((u) => (u.email ? [[u.email, u] as const] : [])));
  const byExternal = new Map(
    existing.flatMap((u) => (u.externalId && u.organizationId === organizationId ? [[u.externalId, u] as const] : [])),
  );

  const seen = new Map<string, number>();
  const inserts: User[] = [];
  const updates: { before: User; patch: UserPatch }[] = [];
  let unchanged = 0;

  for (const r of records) {
    const userName = r.userName.trim();
    const email = r.email ? lower(r.email) : r.email;
    const keys: [string, string][] = [
      ['userName', `n:${userName.toLowerCase()}`],
      ...(email ? [['email', `e:${email}`] as [string, string]] : []),
      ...(r.externalId ? [['externalId', `x:${r.externalId}`] as [string, string]] : []),
    ];
    const dup = keys.find(([, k]) => seen.has(k));
    if (dup) {
      errors.push({ line: r.line, field: dup[0], reason: `same ${dup[0]} as line ${seen.get(dup[1])}` });
      continue;
    }
    for (const [, k] of keys) seen.set(k, r.line);
    const bad = (r.roles ?? []).find((role) => !isRole(role));
    if (bad !== undefined) {
      errors.push({ line: r.line, field: 'roles', reason: `unknown role ${bad.slice(0, 40)}` });
      continue;
    }
    const candidates = new Set(
      [
        r.externalId ? byExternal.get(r.externalId) : undefined,
        byName.get(userName.toLowerCase()),
        email ? byEmail.get(email) : undefined,
      ].filter((u): u is User => u !== undefined),
    );
    if (candidates.size > 1) {
      errors.push({ line: r.line, field: 'userName', reason: 'userName, email and externalId match different users' });
      continue;
    }
    const match = [...candidates][0];
    if (match && match.organizationId !== organizationId) {
      const field = byName.get(userName.toLowerCase()) === match ? 'userName' : 'email';
      errors.push({ line: r.line, field, reason: `${field} is taken` });
      continue;
    }
    if (!match) {
      const roles = r.roles ?? ['member'];
      const d = can(p, 'user.create', { kind: 'user', id: '', organizationId, roles: [], grantRoles: roles });
      if (!d.allow) {
        errors.push({ line: r.line, field: 'roles', reason: refusal(d) });
        continue;
      }
      inserts.push(newUser(r, organizationId, roles, now));
      continue;
    }
    const patch = patchFor(match, r, options);
    if (Object.keys(patch).length === 0) {
      unchanged++;
      continue;
    }
    const losesOwnership =
      match.roles.includes('owner') &&
      ((patch.roles !== undefined && !patch.roles.includes('owner')) || (patch.state !== undefined && patch.state !== 'ACTIVE'));
    const target = userTarget(match, {
      ...(patch.roles ? { grantRoles: patch.roles } : {}),
      isLastOwner: losesOwnership && (await deps.repo.countActiveWithRole(organizationId, 'owner')) <= 1,
    });
    const actions = [
      'user.update',
      ...(patch.email !== undefined ? ['user.change_email' as const] : []),
      ...(patch.roles ? ['user.change_roles' as const] : []),
      ...(patch.state ? ['user.change_state' as const] : []),
      ...(patch.passwordHash ? ['user.set_password' as const] : []),
    ] as const;
    const denied = actions.map((a) => can(p, a, target)).find((d): d is Decision & { allow: false } => !d.allow);
    if (denied) {
      errors.push({ line: r.line, field: 'userName', reason: refusal(denied) });
      continue;
    }
    updates.push({ before: match, patch: { ...patch, updatedAt: now } });
  }

  const result = { created: inserts.length, updated: updates.length, unchanged, errors };
  if (options.dryRun || (inserts.length === 0 && updates.length === 0)) return result;
  await inTransaction(deps, async () => {
    await deps.repo.insertMany(inserts);
    await deps.settings.insertDefaultsMany(inserts.map((u) => u.id));
    for (const u of updates) await deps.repo.updateById(u.before.id, u.patch);
    await deps.audit.record(ctx, {
      action: 'user.imported',
      organizationId,
      data: { created: inserts.length, updated: updates.length, unchanged, failed: errors.length },
    });
  });
  for (const { before, patch } of updates) {
    if (patch.state && patch.state !== 'ACTIVE' && before.state === 'ACTIVE') {
      await deps.events.emit('user.access_revoked', { ctx, userId: before.id, reason: 'user_deactivated' });
    } else if (patch.roles && rankOf(patch.roles) < rankOf(before.roles)) {
      await deps.events.emit('user.access_revoked', { ctx, userId: before.id, reason: 'user_demoted' });
    }
  }
  return result;
}

/** The batch's transaction; a unique violation (another user's SID or external id) is a 409 naming the field, and nothing was written. */
async function inTransaction(deps: ImportDeps, fn: () => Promise<void>): Promise<void> {
  try {
    await deps.transaction(fn);
  } catch (err) {
    if (!(err instanceof UniqueViolation)) throw err;
    const field = /ad_sid/.test(err.constraint)
      ? 'adSid'
      : /external_id/.test(err.constraint)
        ? 'externalId'
        : /email/.test(err.constraint)
          ? 'email'
          : 'userName';
    throw new AppError('resource.conflict', { details: [`body.${field}`], detail: 'import batch conflict', cause: err });
  }
}

function newUser(r: ImportedUser, organizationId: string, roles: string[], now: string): User {
  return {
    id: newId(),
    organizationId,
    userName: r.userName.trim(),
    email: r.email ? r.email.trim().toLowerCase() : null,
    phone: r.phone ?? null,
    title: r.title ?? null,
    firstName: r.firstName ?? null,
    lastName: r.lastName ?? null,
    department: r.department ?? null,
    birthDate: null,
    lastDismissMessages: null,
    rank: null,
    image: null,
    address: null,
    postalCode: null,
    region: null,
    city: null,
    country: null,
    countryCode: null,
    mobile: r.mobile ?? null,
    notes: null,
    customerId: null,
    roles,
    groups: r.groups ?? [],
    state: r.state ?? 'ACTIVE',
    userType: 'USER',
    adSid: r.adSid ?? null,
    externalId: r.externalId ?? null,
    workloadIdentityConfig: null,
    passwordHash: r.passwordHash ?? null,
    passwordChangedAt: r.passwordHash ? now : null,
    requireResetPassword: r.requireResetPassword ?? false,
    emailVerified: r.emailVerified ?? false,
    mfaEnabled: false,
    lastLoginAt: null,
    profileSource: r.profileSource ?? 'import',
    userAttributes: r.userAttributes ?? null,
    createdAt: now,
    updatedAt: now,
  };
}

/** What a record changes on its user: only the fields it gives, and only where they differ. */
function patchFor(user: User, r: ImportedUser, options: ImportOptions): UserPatch {
  const patch: Record<string, unknown> = {};
  for (const key of PROFILE) {
    const given = r[key];
    if (given === undefined) continue;
    const value = key === 'email' && given ? given.trim().toLowerCase() : given;
    if ((user[key] ?? null) !== (value ?? null)) patch[key] = value;
  }
  if (r.userName.trim() !== user.userName) patch.userName = r.userName.trim();
  if (r.emailVerified !== undefined && r.emailVerified !== user.emailVerified) patch.emailVerified = r.emailVerified;
  if (r.roles && !(r.roles.length === user.roles.length && r.roles.every((x) => user.roles.includes(x)))) patch.roles = r.roles;
  if (r.groups && !sameJson(r.groups, user.groups)) patch.groups = r.groups;
  if (r.state && r.state !== user.state) patch.state = r.state as UserState;
  if (r.userAttributes && !sameJson(r.userAttributes, user.userAttributes)) patch.userAttributes = r.userAttributes;
  if (r.requireResetPassword !== undefined && r.requireResetPassword !== user.requireResetPassword) {
    patch.requireResetPassword = r.requireResetPassword;
  }
  if (r.passwordHash && r.passwordHash !== user.passwordHash) {
    // Why: once the user signed in (the hash became argon2id) or set a password here, the file's
    // old hash is stale; a re-run must not take the current password away.
    const stillImported = user.passwordHash !== null && !user.passwordHash.startsWith('$argon2id$');
    if (options.replacePasswords || user.passwordHash === null || stillImported) {
      patch.passwordHash = r.passwordHash;
      patch.passwordChangedAt = new Date().toISOString();
    }
  }
  return patch as UserPatch;
}
