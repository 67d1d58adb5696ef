import type { Executor, OauthClientsTable } from '../storage/index.js';

/** What a client is configured with (the stored `settings` JSON). */
export interface ClientSettings {
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  grantTypes: string[];
  tokenEndpointAuthMethod: string;
  firstParty: boolean;
  allowedScopes: string[];
  accessTokenTtl: number;
  jwks?: { keys: Record<string, unknown>[] } | undefined;
  backchannelLogoutUri?: string | undefined;
  acr?: string | undefined;
}

export interface OauthClient extends ClientSettings {
  clientId: string;
  organizationId: string;
  name: string;
  secretHash: string | null;
  createdAt: string;
  updatedAt: string;
}

function fromRow(row: OauthClientsTable): OauthClient {
  const settings = JSON.parse(row.settings) as ClientSettings;
  return {
    ...settings,
    clientId: row.clientId,
    organizationId: row.organizationId,
    name: row.name,
    secretHash: row.secretHash,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

function toRow(c: OauthClient): OauthClientsTable {
  const { clientId, organizationId, name, secretHash, createdAt, updatedAt, ...settings } = c;
  return { clientId, organizationId, name, secretHash, createdAt, updatedAt, settings: JSON.stringify(settings) };
}

export function createClientsRepo(db: Executor) {
  return {
    async findById(clientId: string): Promise<OauthClient | undefined> {
      const row = await db.selectFrom('oauthClients').selectAll().where('clientId', '=', clientId).executeTakeFirst();
      return row ? fromRow(row) : undefined;
    },
    async listByOrganization(organizationId: string): Promise<OauthClient[]> {
      const rows = await db
        .selectFrom('oauthClients')
        .selectAll()
        .where('organizationId', '=', organizationId)
        .orderBy('createdAt')
        .execute();
      return rows.map(fromRow);
    },
    async insert(client: OauthClient): Promise<void> {
      await db.insertInto('oauthClients').values(toRow(client)).execute();
    },
    async update(client: OauthClient): Promise<void> {
      const { clientId, ...rest } = toRow(client);
      await db.updateTable('oauthClients').set(rest).where('clientId', '=', clientId).execute();
    },
    async deleteById(clientId: string): Promise<void> {
      await db.deleteFrom('oauthClients').where('clientId', '=', clientId).execute();
    },
  };
}
export type ClientsRepo = ReturnType<typeof createClientsRepo>;

/** Consents: the grant a person gave a client, remembered across sessions. */
export function createConsentsRepo(db: Executor) {
  return {
    async find(userId: string, clientId: string) {
      return db.selectFrom('oauthConsents').selectAll().where('userId', '=', userId).where('clientId', '=', clientId).executeTakeFirst();
    },
    async listForUser(userId: string) {
      return db
        .selectFrom('oauthConsents')
        .innerJoin('oauthClients', 'oauthClients.clientId', 'oauthConsents.clientId')
        .select([
          'oauthConsents.clientId',
          'oauthClients.name as clientName',
          'oauthConsents.scope',
          'oauthConsents.grantId',
          'oauthConsents.createdAt',
          'oauthConsents.updatedAt',
        ])
        .where('oauthConsents.userId', '=', userId)
        .orderBy('oauthConsents.createdAt')
        .execute();
    },
    async upsert(row: { userId: string; clientId: string; grantId: string; scope: string; now: string }): Promise<void> {
      await db
        .insertInto('oauthConsents')
        .values({
          userId: row.userId,
          clientId: row.clientId,
          grantId: row.grantId,
          scope: row.scope,
          createdAt: row.now,
          updatedAt: row.now,
        })
        .onConflict((oc) => oc.columns(['userId', 'clientId']).doUpdateSet({ grantId: row.grantId, scope: row.scope, updatedAt: row.now }))
        .execute();
    },
    async remove(userId: string, clientId: string): Promise<string | undefined> {
      const row = await db
        .deleteFrom('oauthConsents')
        .where('userId', '=', userId)
        .where('clientId', '=', clientId)
        .returning('grantId')
        .executeTakeFirst();
      return row?.grantId;
    },
  };
}
export type ConsentsRepo = ReturnType<typeof createConsentsRepo>;
