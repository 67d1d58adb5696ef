import { type Kysely, sql } from 'kysely';

/**
 * A 2FA email address belongs to one organization (issue 14, finding 3): `vault_inbox_claims` maps
 * each lower-cased `two_factor_email_key` to the organization whose logins use it. Its primary key
 * is what makes two organizations' concurrent claims of one address race-safe on both dialects.
 *
 * Existing data: an address used by logins of several organizations goes to the organization whose
 * login with it was created first (the one most likely to have set it up; an organization that copied
 * another's address did so later). The other organizations' logins lose that address (set to null):
 * they would no longer receive its mail, and a login must not show an address it does not receive.
 * Their next upsert naming it answers 409.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('vault_inbox_claims')
    .addColumn('address_key', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await sql`
    insert into vault_inbox_claims (address_key, organization_id, created_at)
    select l.two_factor_email_key, l.organization_id, l.created_at
    from vault_logins l
    where l.two_factor_email_key is not null
      and not exists (
        select 1 from vault_logins e
        where e.two_factor_email_key = l.two_factor_email_key
          and (e.created_at < l.created_at or (e.created_at = l.created_at and e.id < l.id))
      )
  `.execute(db);
  await sql`
    update vault_logins
    set two_factor_email = null, two_factor_email_key = null
    where two_factor_email_key is not null
      and not exists (
        select 1 from vault_inbox_claims c
        where c.address_key = vault_logins.two_factor_email_key and c.organization_id = vault_logins.organization_id
      )
  `.execute(db);

  // Delivery and release look an address up inside its organization.
  await db.schema.dropIndex('vault_logins_2fa_email_idx').execute();
  await db.schema
    .createIndex('vault_logins_org_2fa_email_idx')
    .on('vault_logins')
    .columns(['organization_id', 'two_factor_email_key'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('vault_logins_org_2fa_email_idx').execute();
  await db.schema.createIndex('vault_logins_2fa_email_idx').on('vault_logins').column('two_factor_email_key').execute();
  await db.schema.dropTable('vault_inbox_claims').execute();
}
