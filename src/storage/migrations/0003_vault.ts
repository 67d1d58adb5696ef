import type { Kysely } from 'kysely';

/** The login vault: per-organization data keys, logins with sealed secrets, captured 2FA emails. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('vault_data_keys')
    .addColumn('organization_id', 'text', (c) => c.primaryKey().references('organizations.id').onDelete('cascade'))
    .addColumn('wrapped_key', 'text', (c) => c.notNull())
    .addColumn('master_key_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('vault_logins')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('authentication_url', 'text', (c) => c.notNull())
    .addColumn('home_url', 'text', (c) => c.notNull())
    .addColumn('auth_domain', 'text', (c) => c.notNull())
    .addColumn('home_domain', 'text', (c) => c.notNull())
    .addColumn('username', 'text')
    .addColumn('email', 'text')
    .addColumn('email_key', 'text')
    .addColumn('phone', 'text')
    .addColumn('password_sealed', 'text')
    .addColumn('has_two_factor', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('two_factor_method', 'text')
    .addColumn('two_factor_always_required', 'integer')
    .addColumn('two_factor_email', 'text')
    .addColumn('two_factor_email_key', 'text')
    .addColumn('totp_secret_sealed', 'text')
    .addColumn('has_proxy', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('proxy_username', 'text')
    .addColumn('proxy_server', 'text')
    .addColumn('proxy_password_sealed', 'text')
    .addColumn('persist_session', 'integer')
    .addColumn('session_state_sealed', 'text')
    .addColumn('session_updated_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  // One login per identifier inside an organization: concurrent upserts of one identity cannot create two.
  await db.schema
    .createIndex('vault_logins_org_username_uq')
    .unique()
    .on('vault_logins')
    .columns(['organization_id', 'username'])
    .execute();
  await db.schema.createIndex('vault_logins_org_email_uq').unique().on('vault_logins').columns(['organization_id', 'email_key']).execute();
  await db.schema.createIndex('vault_logins_org_phone_uq').unique().on('vault_logins').columns(['organization_id', 'phone']).execute();
  await db.schema.createIndex('vault_logins_org_created_idx').on('vault_logins').columns(['organization_id', 'created_at', 'id']).execute();
  await db.schema.createIndex('vault_logins_2fa_email_idx').on('vault_logins').column('two_factor_email_key').execute();

  await db.schema
    .createTable('vault_email_codes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('login_id', 'text', (c) => c.notNull().references('vault_logins.id').onDelete('cascade'))
    .addColumn('value_sealed', 'text', (c) => c.notNull())
    .addColumn('received_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('vault_email_codes_login_idx').on('vault_email_codes').columns(['login_id', 'received_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['vault_email_codes', 'vault_logins', 'vault_data_keys']) await db.schema.dropTable(t).execute();
}
