import type { Insertable, Selectable, Updateable } from 'kysely';
import { type Executor, uniquely, type VaultDataKeysTable, type VaultEmailCodesTable, type VaultLoginsTable } from '../storage/index.js';

export type LoginRow = Selectable<VaultLoginsTable>;

/** The columns holding sealed secrets: read only where a secret is used, never for a listing. */
type SealedColumn =
  | 'passwordSealed'
  | 'totpSecretSealed'
  | 'proxyPasswordSealed'
  | 'sessionStateSealed'
  | 'apiKeySealed'
  | 'bearerTokenSealed'
  | 'additionalCredentialsSealed';
/** Which secrets a login holds, without them. */
interface SealedPresence {
  hasPassword: boolean;
  hasTotpSecret: boolean;
  hasProxyPassword: boolean;
  hasSession: boolean;
  hasApiKey: boolean;
  hasBearerToken: boolean;
}
/** A login as the public view needs it: every column but the sealed ones, which are only flagged. */
export type LoginSummary = Omit<LoginRow, SealedColumn> & SealedPresence;

export function summarize(row: LoginRow): LoginSummary {
  const {
    passwordSealed,
    totpSecretSealed,
    proxyPasswordSealed,
    sessionStateSealed,
    apiKeySealed,
    bearerTokenSealed,
    additionalCredentialsSealed: _additional,
    ...rest
  } = row;
  return {
    ...rest,
    hasApiKey: apiKeySealed !== null,
    hasBearerToken: bearerTokenSealed !== null,
    hasPassword: passwordSealed !== null,
    hasTotpSecret: totpSecretSealed !== null,
    hasProxyPassword: proxyPasswordSealed !== null,
    hasSession: sessionStateSealed !== null,
  };
}

const SUMMARY_COLUMNS = [
  'id',
  'organizationId',
  'name',
  'authenticationUrl',
  'homeUrl',
  'authDomain',
  'homeDomain',
  'username',
  'email',
  'emailKey',
  'phone',
  'hasTwoFactor',
  'twoFactorMethod',
  'twoFactorAlwaysRequired',
  'twoFactorEmail',
  'twoFactorEmailKey',
  'hasProxy',
  'proxyUsername',
  'proxyServer',
  'persistSession',
  'sessionUpdatedAt',
  'createdAt',
  'updatedAt',
  'iconUrl',
  'description',
  'additionalCredentialKeys',
  'isManualAuthentication',
  'supportConcurrentLogins',
  'supportsAgentConcurrency',
  'useLlmLoginDetection',
  'loginDetectionPrompt',
  'loginInstructionsPrompt',
  'selectors',
] as const satisfies readonly (keyof Omit<LoginRow, SealedColumn>)[];
export type LoginPatch = Omit<Updateable<VaultLoginsTable>, 'id' | 'organizationId' | 'createdAt'>;
export type DataKeyRow = Selectable<VaultDataKeysTable>;
export type EmailCodeRow = Selectable<VaultEmailCodesTable>;

export interface LoginFilter {
  name?: string | undefined;
  /** Host name; matches the authentication or home URL's host or any subdomain of it. */
  domain?: string | undefined;
  username?: string | undefined;
  /** Lower-cased. */
  emailKey?: string | undefined;
}

export interface LoginIdentifiers {
  username?: string | null | undefined;
  emailKey?: string | null | undefined;
  phone?: string | null | undefined;
}

export function createVaultRepo(db: Executor) {
  return {
    async findById(organizationId: string, id: string): Promise<LoginRow | undefined> {
      return db.selectFrom('vaultLogins').selectAll().where('organizationId', '=', organizationId).where('id', '=', id).executeTakeFirst();
    },

    /** Logins of the organization sharing any of the given identifiers. */
    async findByIdentifiers(organizationId: string, ids: LoginIdentifiers): Promise<LoginRow[]> {
      const { username, emailKey, phone } = ids;
      if (!username && !emailKey && !phone) return [];
      return db
        .selectFrom('vaultLogins')
        .selectAll()
        .where('organizationId', '=', organizationId)
        .where((eb) =>
          eb.or([
            ...(username ? [eb('username', '=', username)] : []),
            ...(emailKey ? [eb('emailKey', '=', emailKey)] : []),
            ...(phone ? [eb('phone', '=', phone)] : []),
          ]),
        )
        .orderBy('createdAt')
        .execute();
    },

    async insert(row: Insertable<VaultLoginsTable>): Promise<void> {
      // A username, email or phone taken in the organization is a `UniqueViolation`.
      await uniquely(() => db.insertInto('vaultLogins').values(row).execute());
    },

    /**
     * Applies `patch` to the login. With `ifTwoFactorEmailKey`, only while the login's 2FA address
     * key is still that value (`null` included): false when it changed meanwhile, or the login is gone.
     */
    async updateById(organizationId: string, id: string, patch: LoginPatch, ifTwoFactorEmailKey?: string | null): Promise<boolean> {
      let q = db.updateTable('vaultLogins').set(patch).where('organizationId', '=', organizationId).where('id', '=', id);
      if (ifTwoFactorEmailKey !== undefined) {
        q = q.where('twoFactorEmailKey', ifTwoFactorEmailKey === null ? 'is' : '=', ifTwoFactorEmailKey);
      }
      const res = await uniquely(() => q.executeTakeFirst());
      return Number(res.numUpdatedRows) > 0;
    },

    /** Deletes the login and its captured codes; answers the deleted login's 2FA address key, or undefined when none was deleted. */
    async deleteById(organizationId: string, id: string): Promise<{ twoFactorEmailKey: string | null } | undefined> {
      await db.deleteFrom('vaultEmailCodes').where('organizationId', '=', organizationId).where('loginId', '=', id).execute();
      return db
        .deleteFrom('vaultLogins')
        .where('organizationId', '=', organizationId)
        .where('id', '=', id)
        .returning('twoFactorEmailKey')
        .executeTakeFirst();
    },

    /**
     * A page of logins in creation order. Why not `selectAll`: a page would carry every sealed
     * secret and stored browser session (up to megabytes each) into memory only to drop them.
     */
    async list(
      organizationId: string,
      filter: LoginFilter,
      limit: number,
      after?: { createdAt: string; id: string },
    ): Promise<LoginSummary[]> {
      let q = db
        .selectFrom('vaultLogins')
        .select(SUMMARY_COLUMNS)
        .select((eb) => [
          eb('passwordSealed', 'is not', null).as('hasPassword'),
          eb('totpSecretSealed', 'is not', null).as('hasTotpSecret'),
          eb('proxyPasswordSealed', 'is not', null).as('hasProxyPassword'),
          eb('sessionStateSealed', 'is not', null).as('hasSession'),
          eb('apiKeySealed', 'is not', null).as('hasApiKey'),
          eb('bearerTokenSealed', 'is not', null).as('hasBearerToken'),
        ])
        .where('organizationId', '=', organizationId);
      if (filter.name !== undefined) q = q.where('name', '=', filter.name);
      if (filter.username !== undefined) q = q.where('username', '=', filter.username);
      if (filter.emailKey !== undefined) q = q.where('emailKey', '=', filter.emailKey);
      const domain = filter.domain;
      if (domain !== undefined) {
        // The domain is validated to [a-z0-9.-], so it holds no LIKE wildcard.
        q = q.where((eb) =>
          eb.or([
            eb('authDomain', '=', domain),
            eb('authDomain', 'like', `%.${domain}`),
            eb('homeDomain', '=', domain),
            eb('homeDomain', 'like', `%.${domain}`),
          ]),
        );
      }
      if (after) {
        q = q.where((eb) =>
          eb.or([eb('createdAt', '>', after.createdAt), eb.and([eb('createdAt', '=', after.createdAt), eb('id', '>', after.id)])]),
        );
      }
      const rows = await q.orderBy('createdAt').orderBy('id').limit(limit).execute();
      // SQLite answers 0/1 for a comparison, PostgreSQL a boolean.
      return rows.map((r) => ({
        ...r,
        hasPassword: Boolean(r.hasPassword),
        hasTotpSecret: Boolean(r.hasTotpSecret),
        hasProxyPassword: Boolean(r.hasProxyPassword),
        hasSession: Boolean(r.hasSession),
        hasApiKey: Boolean(r.hasApiKey),
        hasBearerToken: Boolean(r.hasBearerToken),
      }));
    },

    /** The organization's logins whose 2FA email is this address: where one inbound message is stored. */
    async findByTwoFactorEmail(organizationId: string, emailKey: string): Promise<Pick<LoginRow, 'id' | 'organizationId'>[]> {
      return db
        .selectFrom('vaultLogins')
        .select(['id', 'organizationId'])
        .where('organizationId', '=', organizationId)
        .where('twoFactorEmailKey', '=', emailKey)
        .limit(100)
        .execute();
    },

    /** The organization a 2FA address belongs to, or undefined when none claims it. */
    async findInboxClaim(addressKey: string): Promise<string | undefined> {
      const row = await db.selectFrom('vaultInboxClaims').select('organizationId').where('addressKey', '=', addressKey).executeTakeFirst();
      return row?.organizationId;
    },

    /**
     * Claims a 2FA address for the organization, or confirms it already holds it; false when another
     * organization does. The address is the primary key, so of two organizations claiming it at once
     * exactly one wins (PostgreSQL makes the second wait for the first to commit). The row is written
     * even when already held, which keeps it locked until the transaction ends: a concurrent
     * {@link releaseInboxClaim} of the same address waits, then sees this transaction's login.
     */
    async claimInboxAddress(addressKey: string, organizationId: string, now: string): Promise<boolean> {
      const row = await db
        .insertInto('vaultInboxClaims')
        .values({ addressKey, organizationId, createdAt: now })
        .onConflict((oc) =>
          oc.column('addressKey').doUpdateSet({ organizationId }).where('vaultInboxClaims.organizationId', '=', organizationId),
        )
        .returning('organizationId')
        .executeTakeFirst();
      return row !== undefined;
    },

    /**
     * Gives a 2FA address up when no login of the organization uses it any more. Run after the login
     * write, in its transaction. Two statements on purpose: the first locks the claim (waiting for a
     * transaction that is claiming it for a new login), the second then looks at the logins with a
     * fresh snapshot (PostgreSQL, read committed), so that new login is seen and the claim kept.
     */
    async releaseInboxClaim(addressKey: string, organizationId: string): Promise<void> {
      await db
        .updateTable('vaultInboxClaims')
        .set((eb) => ({ organizationId: eb.ref('organizationId') }))
        .where('addressKey', '=', addressKey)
        .where('organizationId', '=', organizationId)
        .execute();
      await db
        .deleteFrom('vaultInboxClaims')
        .where('addressKey', '=', addressKey)
        .where('organizationId', '=', organizationId)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('vaultLogins')
                .select('id')
                .where('vaultLogins.organizationId', '=', organizationId)
                .where('vaultLogins.twoFactorEmailKey', '=', addressKey),
            ),
          ),
        )
        .execute();
    },

    async findDataKey(organizationId: string): Promise<DataKeyRow | undefined> {
      return db.selectFrom('vaultDataKeys').selectAll().where('organizationId', '=', organizationId).executeTakeFirst();
    },
    async insertDataKeyIfAbsent(row: DataKeyRow): Promise<void> {
      await db
        .insertInto('vaultDataKeys')
        .values(row)
        .onConflict((oc) => oc.column('organizationId').doNothing())
        .execute();
    },
    /** A page of wrapped data keys in organization order, after `afterOrganizationId` (`keys rotate-master`). */
    async pageDataKeys(
      afterOrganizationId: string | undefined,
      limit: number,
    ): Promise<Pick<DataKeyRow, 'organizationId' | 'wrappedKey'>[]> {
      let q = db.selectFrom('vaultDataKeys').select(['organizationId', 'wrappedKey']);
      if (afterOrganizationId !== undefined) q = q.where('organizationId', '>', afterOrganizationId);
      return q.orderBy('organizationId').limit(limit).execute();
    },
    /**
     * Compare-and-set on the previous wrapped value, so a concurrent rotation is not overwritten with
     * stale data. True when this call wrote.
     */
    async updateDataKey(
      organizationId: string,
      previousWrapped: string,
      patch: Pick<DataKeyRow, 'wrappedKey' | 'masterKeyId' | 'updatedAt'>,
    ): Promise<boolean> {
      const res = await db
        .updateTable('vaultDataKeys')
        .set(patch)
        .where('organizationId', '=', organizationId)
        .where('wrappedKey', '=', previousWrapped)
        .executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    },

    async insertEmailCode(row: EmailCodeRow): Promise<void> {
      await db.insertInto('vaultEmailCodes').values(row).execute();
    },
    /** The newest unexpired code received after `since`. */
    async findNewestEmailCode(organizationId: string, loginId: string, since: string, now: string): Promise<EmailCodeRow | undefined> {
      return db
        .selectFrom('vaultEmailCodes')
        .selectAll()
        .where('organizationId', '=', organizationId)
        .where('loginId', '=', loginId)
        .where('receivedAt', '>', since)
        .where('expiresAt', '>', now)
        .orderBy('receivedAt', 'desc')
        .orderBy('id', 'desc')
        .executeTakeFirst();
    },
    async deleteExpiredEmailCodes(now: string): Promise<void> {
      await db.deleteFrom('vaultEmailCodes').where('expiresAt', '<=', now).execute();
    },
  };
}
export type VaultRepo = ReturnType<typeof createVaultRepo>;
