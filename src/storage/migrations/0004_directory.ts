import type { Kysely } from 'kysely';

/**
 * Directory provisioning (SCIM 2.0): the SCIM user resource as the client sent it, groups and
 * their members. A user's `groups` column mirrors the names of the groups it belongs to.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('directory_scim_users')
    .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('resource', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('directory_groups')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('display_name_key', 'text', (c) => c.notNull())
    .addColumn('external_id', 'text')
    .addColumn('resource', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('directory_groups_org_name_uq')
    .unique()
    .on('directory_groups')
    .columns(['organization_id', 'display_name_key'])
    .execute();
  await db.schema
    .createIndex('directory_groups_org_external_id_uq')
    .unique()
    .on('directory_groups')
    .columns(['organization_id', 'external_id'])
    .execute();

  await db.schema
    .createTable('directory_group_members')
    .addColumn('group_id', 'text', (c) => c.notNull().references('directory_groups.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('directory_group_members_pk', ['group_id', 'user_id'])
    .execute();
  await db.schema.createIndex('directory_group_members_user_idx').on('directory_group_members').column('user_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['directory_group_members', 'directory_groups', 'directory_scim_users']) await db.schema.dropTable(t).execute();
}
