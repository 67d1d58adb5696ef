import type { Selectable } from 'kysely';
import { type Executor, type IdentityProvidersTable, uniquely } from '../storage/index.js';

export type IdpType = 'OIDC' | 'OAUTH2';
export type AuthStyle = 'IN_PARAMS' | 'IN_HEADER';

export interface FieldMapping {
  identifier?: string | undefined;
  displayName?: string | undefined;
  email?: string | undefined;
  phone?: string | undefined;
  emailVerified?: string | undefined;
}

export interface OidcConfig {
  issuer: string;
  clientId: string;
  scopes: string[];
  fieldMapping?: FieldMapping | undefined;
  authStyle?: AuthStyle | undefined;
}

export interface OAuth2Config {
  authUrl: string;
  tokenUrl: string;
  userInfoUrl: string;
  clientId: string;
  scopes: string[];
  fieldMapping: FieldMapping;
  authStyle?: AuthStyle | undefined;
}

export interface IdpConfig {
  oidcConfig?: OidcConfig | undefined;
  oauth2Config?: OAuth2Config | undefined;
}

/** An identity provider as stored. The client secret stays sealed here; only the service opens it. */
export interface IdentityProvider {
  id: string;
  organizationId: string;
  title: string;
  domain: string | null;
  type: IdpType;
  config: IdpConfig;
  clientSecretSealed: string;
  allowJitProvisioning: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface ExternalIdentity {
  providerId: string;
  subject: string;
  userId: string;
  email: string | null;
  createdAt: string;
  lastLoginAt: string | null;
}

export interface AuthFlow {
  stateHash: string;
  providerId: string;
  nonce: string | null;
  codeVerifierSealed: string;
  returnTo: string;
  createdAt: string;
  expiresAt: string;
}

const toIdp = (r: Selectable<IdentityProvidersTable>): IdentityProvider => ({
  ...r,
  type: r.type as IdpType,
  config: JSON.parse(r.config) as IdpConfig,
  allowJitProvisioning: r.allowJitProvisioning === 1,
});

export function createIdpsRepo(db: Executor) {
  return {
    async findById(id: string): Promise<IdentityProvider | undefined> {
      const row = await db.selectFrom('identityProviders').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toIdp(row);
    },
    async list(filter: { organizationId?: string | undefined; domain?: string | undefined }): Promise<IdentityProvider[]> {
      let q = db.selectFrom('identityProviders').selectAll();
      if (filter.organizationId) q = q.where('organizationId', '=', filter.organizationId);
      if (filter.domain) q = q.where('domain', '=', filter.domain.toLowerCase());
      const rows = await q.orderBy('createdAt').orderBy('id').limit(500).execute();
      return rows.map(toIdp);
    },
    async insert(idp: IdentityProvider): Promise<void> {
      await uniquely(() =>
        db
          .insertInto('identityProviders')
          .values({ ...idp, config: JSON.stringify(idp.config), allowJitProvisioning: idp.allowJitProvisioning ? 1 : 0 })
          .execute(),
      );
    },
    async updateById(id: string, idp: IdentityProvider): Promise<void> {
      await db
        .updateTable('identityProviders')
        .set({
          title: idp.title,
          domain: idp.domain,
          config: JSON.stringify(idp.config),
          clientSecretSealed: idp.clientSecretSealed,
          allowJitProvisioning: idp.allowJitProvisioning ? 1 : 0,
          updatedAt: idp.updatedAt,
        })
        .where('id', '=', id)
        .execute();
    },
    /** Deletes the provider with its links and pending flows (users stay). */
    async deleteById(id: string): Promise<void> {
      await db.deleteFrom('authFlows').where('providerId', '=', id).execute();
      await db.deleteFrom('externalIdentities').where('providerId', '=', id).execute();
      await db.deleteFrom('identityProviders').where('id', '=', id).execute();
    },

    async findIdentity(providerId: string, subject: string): Promise<ExternalIdentity | undefined> {
      return db
        .selectFrom('externalIdentities')
        .selectAll()
        .where('providerId', '=', providerId)
        .where('subject', '=', subject)
        .executeTakeFirst();
    },
    /** Links a subject to a user; a `UniqueViolation` when the subject is already linked (a concurrent sign-in won). */
    async insertIdentity(identity: ExternalIdentity): Promise<void> {
      await uniquely(() => db.insertInto('externalIdentities').values(identity).execute());
    },
    async touchIdentity(providerId: string, subject: string, at: string): Promise<void> {
      await db
        .updateTable('externalIdentities')
        .set({ lastLoginAt: at })
        .where('providerId', '=', providerId)
        .where('subject', '=', subject)
        .execute();
    },

    async insertFlow(flow: AuthFlow): Promise<void> {
      await db.insertInto('authFlows').values(flow).execute();
    },
    /** Takes a flow out: the first caller gets it, any later one (a replayed state) gets undefined. */
    async consumeFlow(stateHash: string): Promise<AuthFlow | undefined> {
      const flow = await db.selectFrom('authFlows').selectAll().where('stateHash', '=', stateHash).executeTakeFirst();
      if (!flow) return undefined;
      const res = await db.deleteFrom('authFlows').where('stateHash', '=', stateHash).executeTakeFirst();
      return Number(res.numDeletedRows) === 1 ? flow : undefined;
    },
    async deleteExpiredFlows(now: string): Promise<void> {
      await db.deleteFrom('authFlows').where('expiresAt', '<', now).execute();
    },

    /** Access to the sealed client secrets, for `keys rotate-master` (see `federation.sealed.ts`). */
    clientSecrets: {
      async page(afterId: string | undefined, limit: number): Promise<{ key: string; sealed: string }[]> {
        let q = db.selectFrom('identityProviders').select(['id', 'clientSecretSealed']);
        if (afterId !== undefined) q = q.where('id', '>', afterId);
        const rows = await q.orderBy('id').limit(limit).execute();
        return rows.map((r) => ({ key: r.id, sealed: r.clientSecretSealed }));
      },
      async read(id: string): Promise<string | undefined> {
        return (await db.selectFrom('identityProviders').select('clientSecretSealed').where('id', '=', id).executeTakeFirst())
          ?.clientSecretSealed;
      },
      /** Compare-and-set: a secret replaced meanwhile (`PATCH /v1/idps/{id}`) is never overwritten. */
      async swap(id: string, previous: string, next: string): Promise<boolean> {
        const res = await db
          .updateTable('identityProviders')
          .set({ clientSecretSealed: next })
          .where('id', '=', id)
          .where('clientSecretSealed', '=', previous)
          .executeTakeFirst();
        return Number(res.numUpdatedRows) === 1;
      },
    },

    /** Access to the sealed PKCE verifiers of browser sign-ins in progress, for `keys rotate-master`. */
    flowVerifiers: {
      async page(afterStateHash: string | undefined, limit: number): Promise<{ key: string; sealed: string }[]> {
        let q = db.selectFrom('authFlows').select(['stateHash', 'codeVerifierSealed']);
        if (afterStateHash !== undefined) q = q.where('stateHash', '>', afterStateHash);
        const rows = await q.orderBy('stateHash').limit(limit).execute();
        return rows.map((r) => ({ key: r.stateHash, sealed: r.codeVerifierSealed }));
      },
      async read(stateHash: string): Promise<string | undefined> {
        return (await db.selectFrom('authFlows').select('codeVerifierSealed').where('stateHash', '=', stateHash).executeTakeFirst())
          ?.codeVerifierSealed;
      },
      async swap(stateHash: string, previous: string, next: string): Promise<boolean> {
        const res = await db
          .updateTable('authFlows')
          .set({ codeVerifierSealed: next })
          .where('stateHash', '=', stateHash)
          .where('codeVerifierSealed', '=', previous)
          .executeTakeFirst();
        return Number(res.numUpdatedRows) === 1;
      },
    },
  };
}
export type IdpsRepo = ReturnType<typeof createIdpsRepo>;
