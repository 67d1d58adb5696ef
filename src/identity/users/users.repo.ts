import type { Selectable, SelectQueryBuilder, Updateable } from 'kysely';
import { type Database, type Executor, type UsersTable, uniquely } from '../../storage/index.js';

/** `SUSPENDED`: deactivated by a directory (SCIM `active: false`), reversible; only `ACTIVE` users sign in. */
export const USER_STATES = ['ACTIVE', 'SUSPENDED', 'DELETED'] as const;
export const USER_TYPES = ['USER', 'SERVICE_ACCOUNT', 'WORKLOAD_IDENTITY'] as const;
export type UserState = (typeof USER_STATES)[number];
export type UserType = (typeof USER_TYPES)[number];

export interface WorkloadIdentityConfig {
  providerType: 'GITHUB' | 'GITLAB' | 'GENERIC';
  issuerUrl: string;
  allowedAudiences: string[];
  subjectPattern: string;
}

/** Profile fields of seed 001's user that the user may edit about themselves. */
export const PROFILE_FIELDS = [
  'email',
  'phone',
  'title',
  'firstName',
  'lastName',
  'department',
  'birthDate',
  'lastDismissMessages',
  'rank',
  'image',
  'address',
  'postalCode',
  'region',
  'city',
  'country',
  'countryCode',
  'mobile',
  'notes',
  'customerId',
] as const;
export type ProfileField = (typeof PROFILE_FIELDS)[number];

/**
 * A user as services see it: the table's row with its JSON and integer columns decoded (roles, groups,
 * workload identity config, booleans) and without the lookup key.
 */
export type User = Omit<
  Selectable<UsersTable>,
  | 'userNameKey'
  | 'roles'
  | 'groups'
  | 'state'
  | 'userType'
  | 'workloadIdentityConfig'
  | 'requireResetPassword'
  | 'emailVerified'
  | 'mfaEnabled'
  | 'userAttributes'
> & {
  roles: string[];
  groups: string[];
  state: UserState;
  userType: UserType;
  workloadIdentityConfig: WorkloadIdentityConfig | null;
  requireResetPassword: boolean;
  emailVerified: boolean;
  mfaEnabled: boolean;
  /** HelloID's custom attributes (string values), or null. */
  userAttributes: Record<string, string> | null;
};

export type UserPatch = Partial<Omit<User, 'id' | 'organizationId' | 'createdAt'>>;

const toUser = (r: Selectable<UsersTable>): User => {
  const { userNameKey: _key, ...rest } = r;
  return {
    ...rest,
    roles: JSON.parse(r.roles) as string[],
    groups: JSON.parse(r.groups) as string[],
    state: r.state as UserState,
    userType: r.userType as UserType,
    workloadIdentityConfig: r.workloadIdentityConfig ? (JSON.parse(r.workloadIdentityConfig) as WorkloadIdentityConfig) : null,
    requireResetPassword: r.requireResetPassword === 1,
    emailVerified: r.emailVerified === 1,
    mfaEnabled: r.mfaEnabled === 1,
    userAttributes: r.userAttributes ? (JSON.parse(r.userAttributes) as Record<string, string>) : null,
  };
};

function toRow(patch: UserPatch): Updateable<UsersTable> {
  const row: Updateable<UsersTable> = {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue;
    switch (k) {
      case 'roles':
      case 'groups':
        (row as Record<string, unknown>)[k] = JSON.stringify(v);
        break;
      case 'workloadIdentityConfig':
        row.workloadIdentityConfig = v === null ? null : JSON.stringify(v);
        break;
      case 'userAttributes':
        row.userAttributes = v === null ? null : JSON.stringify(v);
        break;
      case 'requireResetPassword':
      case 'emailVerified':
      case 'mfaEnabled':
        (row as Record<string, unknown>)[k] = v ? 1 : 0;
        break;
      case 'userName':
        row.userName = v as string;
        row.userNameKey = (v as string).toLowerCase();
        break;
      default:
        (row as Record<string, unknown>)[k] = v;
    }
  }
  return row;
}

/** Which users of an organization a list or a count covers. */
export interface UserCriteria {
  organizationId: string;
  userName?: string;
  email?: string;
  adSid?: string;
  externalId?: string;
  /** Leaves out the users in this state (SCIM never shows `DELETED` users). */
  excludeState?: UserState;
  /** Only the users in one of these states (HelloID's `enabled` / `isDeleted` filters). */
  states?: readonly UserState[];
}

export interface UserFilter extends UserCriteria {
  /** Keyset paging: the users after this one in (createdAt, id) order. */
  after?: { createdAt: string; id: string };
  /** Offset paging: how many users, in (createdAt, id) order, to skip. */
  offset?: number;
  limit: number;
}

function whereCriteria<O>(q: SelectQueryBuilder<Database, 'users', O>, f: UserCriteria): SelectQueryBuilder<Database, 'users', O> {
  let out = q.where('organizationId', '=', f.organizationId);
  if (f.userName) out = out.where('userNameKey', '=', f.userName.toLowerCase());
  if (f.email) out = out.where('email', '=', f.email.toLowerCase());
  if (f.adSid) out = out.where('adSid', '=', f.adSid);
  if (f.externalId) out = out.where('externalId', '=', f.externalId);
  if (f.excludeState) out = out.where('state', '!=', f.excludeState);
  if (f.states) out = out.where('state', 'in', f.states.length ? [...f.states] : ['']);
  return out;
}

/** How many ids one `in (…)` list carries at most. */
const IN_LIST = 500;

export function createUsersRepo(db: Executor) {
  const base = () => db.selectFrom('users').selectAll();
  return {
    async findById(id: string): Promise<User | undefined> {
      const row = await base().where('id', '=', id).executeTakeFirst();
      return row && toUser(row);
    },
    async findByUserName(userName: string): Promise<User | undefined> {
      const row = await base().where('userNameKey', '=', userName.toLowerCase()).executeTakeFirst();
      return row && toUser(row);
    },
    async findByEmail(email: string): Promise<User | undefined> {
      const row = await base().where('email', '=', email.toLowerCase()).executeTakeFirst();
      return row && toUser(row);
    },
    async findByAdSid(organizationId: string, adSid: string): Promise<User | undefined> {
      const row = await base().where('organizationId', '=', organizationId).where('adSid', '=', adSid).executeTakeFirst();
      return row && toUser(row);
    },
    /** The users with these ids that exist, in no particular order. */
    async findByIds(ids: readonly string[]): Promise<User[]> {
      const out: User[] = [];
      for (let i = 0; i < ids.length; i += IN_LIST) {
        const rows = await base()
          .where('id', 'in', ids.slice(i, i + IN_LIST))
          .execute();
        out.push(...rows.map(toUser));
      }
      return out;
    },
    /**
     * The users that hold any of these user names (instance-wide), emails (instance-wide) or external
     * ids (inside the organization): the import's match, one read per batch.
     */
    async findByImportKeys(
      organizationId: string,
      keys: { userNames: string[]; emails: string[]; externalIds: string[] },
    ): Promise<User[]> {
      const out = new Map<string, User>();
      const chunks = <T>(list: T[]) =>
        Array.from({ length: Math.ceil(list.length / IN_LIST) }, (_, i) => list.slice(i * IN_LIST, (i + 1) * IN_LIST));
      for (const part of chunks(keys.userNames.map((n) => n.toLowerCase())))
        for (const r of await base().where('userNameKey', 'in', part).execute()) out.set(r.id, toUser(r));
      for (const part of chunks(keys.emails.map((e) => e.toLowerCase())))
        for (const r of await base().where('email', 'in', part).execute()) out.set(r.id, toUser(r));
      for (const part of chunks(keys.externalIds))
        for (const r of await base().where('organizationId', '=', organizationId).where('externalId', 'in', part).execute())
          out.set(r.id, toUser(r));
      return [...out.values()];
    },
    async list(f: UserFilter): Promise<User[]> {
      let q = whereCriteria(base(), f);
      const after = f.after;
      if (after) {
        q = q.where((eb) =>
          eb.or([eb('createdAt', '>', after.createdAt), eb.and([eb('createdAt', '=', after.createdAt), eb('id', '>', after.id)])]),
        );
      }
      q = q.orderBy('createdAt').orderBy('id').limit(f.limit);
      if (f.offset) q = q.offset(f.offset);
      return (await q.execute()).map(toUser);
    },
    /** How many users {@link UserCriteria} covers. */
    async countMatching(f: UserCriteria): Promise<number> {
      const r = await whereCriteria(
        db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')),
        f,
      ).executeTakeFirstOrThrow();
      return Number(r.n);
    },
    /** Active users of an organization holding a role (the last-owner rule). */
    async countActiveWithRole(organizationId: string, role: string): Promise<number> {
      const r = await db
        .selectFrom('users')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('organizationId', '=', organizationId)
        .where('state', '=', 'ACTIVE')
        .where('roles', 'like', `%${JSON.stringify(role)}%`)
        .executeTakeFirstOrThrow();
      return Number(r.n);
    },
    async count(): Promise<number> {
      const r = await db
        .selectFrom('users')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(r.n);
    },
    async insert(user: User): Promise<User> {
      await uniquely(() =>
        db
          .insertInto('users')
          .values({ ...(toRow(user) as UsersTable), id: user.id, organizationId: user.organizationId, createdAt: user.createdAt })
          .execute(),
      );
      return user;
    },
    /** Several users in one statement per chunk (an import batch). */
    async insertMany(users: readonly User[]): Promise<void> {
      // Why 100: PostgreSQL takes at most 65,535 parameters a statement and SQLite 32,766; a user row has ~45.
      for (let i = 0; i < users.length; i += 100) {
        const rows = users
          .slice(i, i + 100)
          .map((user) => ({ ...(toRow(user) as UsersTable), id: user.id, organizationId: user.organizationId, createdAt: user.createdAt }));
        await uniquely(() => db.insertInto('users').values(rows).execute());
      }
    },
    async updateById(id: string, patch: UserPatch): Promise<void> {
      await uniquely(() => db.updateTable('users').set(toRow(patch)).where('id', '=', id).execute());
    },
  };
}
export type UsersRepo = ReturnType<typeof createUsersRepo>;
