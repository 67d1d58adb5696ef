import type { Executor } from '../../storage/index.js';

/** One entry of seed 001's `settings`. */
export interface UserSetting {
  id: number;
  category: string;
  group: string;
  name: string;
  value: string;
  type: string;
  description: string;
  readOnly: boolean;
  userId: string;
}

/** Settings every user starts with. */
export const DEFAULT_SETTINGS: ReadonlyArray<Omit<UserSetting, 'id' | 'userId'>> = [
  {
    category: 'ui',
    group: 'general',
    name: 'language',
    value: 'en',
    type: 'string',
    description: 'Interface language (BCP 47).',
    readOnly: false,
  },
  { category: 'ui', group: 'general', name: 'timezone', value: 'UTC', type: 'string', description: 'IANA time zone.', readOnly: false },
  {
    category: 'notifications',
    group: 'email',
    name: 'securityAlerts',
    value: 'true',
    type: 'boolean',
    description: 'Mail me about password and MFA changes.',
    readOnly: false,
  },
  {
    category: 'security',
    group: 'account',
    name: 'passwordPolicy',
    value: 'NIST SP 800-63B-4',
    type: 'string',
    description: 'The password policy that applies (set by the organization).',
    readOnly: true,
  },
];

export function createSettingsRepo(db: Executor) {
  return {
    async listForUser(userId: string): Promise<UserSetting[]> {
      const rows = await db.selectFrom('userSettings').selectAll().where('userId', '=', userId).orderBy('id').execute();
      return rows.map(({ settingGroup, readOnly, ...r }) => ({ ...r, group: settingGroup, readOnly: readOnly === 1 }));
    },
    async insertDefaults(userId: string): Promise<void> {
      await db
        .insertInto('userSettings')
        .values(DEFAULT_SETTINGS.map(({ group, readOnly, ...s }) => ({ ...s, userId, settingGroup: group, readOnly: readOnly ? 1 : 0 })))
        .execute();
    },
    /** The default settings of several new users (an import batch). */
    async insertDefaultsMany(userIds: readonly string[]): Promise<void> {
      for (let i = 0; i < userIds.length; i += 200) {
        const rows = userIds
          .slice(i, i + 200)
          .flatMap((userId) =>
            DEFAULT_SETTINGS.map(({ group, readOnly, ...s }) => ({ ...s, userId, settingGroup: group, readOnly: readOnly ? 1 : 0 })),
          );
        await db.insertInto('userSettings').values(rows).execute();
      }
    },
    async updateValue(id: number, userId: string, value: string): Promise<void> {
      await db.updateTable('userSettings').set({ value }).where('id', '=', id).where('userId', '=', userId).execute();
    },
  };
}
export type SettingsRepo = ReturnType<typeof createSettingsRepo>;
