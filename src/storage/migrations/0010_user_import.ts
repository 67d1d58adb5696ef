import type { Kysely } from 'kysely';

/**
 * Issue 20: HelloID's `userAttributes`, custom key/value attributes of a user (a JSON object).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').addColumn('user_attributes', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').dropColumn('user_attributes').execute();
}
