import type { Kysely } from 'kysely';

/**
 * The vault's login runner (issue 19): `vault_runs` records each sign-in the runner performs (its
 * status, steps, reason and a sealed failure screenshot that expires), so a restarted server can end
 * the runs it had in flight. `vault_logins` gains Kaizen's remaining login fields: the icon and
 * description, the sealed write-only `apiKey`, `bearerToken` and `additionalCredentials`, the flags
 * and prompts, and the per-login selector overrides of the runner.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('vault_runs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
    .addColumn('login_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('steps', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('screenshot_sealed', 'text')
    .addColumn('screenshot_expires_at', 'text')
    .addColumn('used_stored_session', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('instance_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text')
    .addColumn('finished_at', 'text')
    .execute();
  await db.schema.createIndex('vault_runs_org_login_idx').on('vault_runs').columns(['organization_id', 'login_id']).execute();
  await db.schema.createIndex('vault_runs_status_idx').on('vault_runs').columns(['status']).execute();

  const add = (name: string, type: 'text' | 'integer') => db.schema.alterTable('vault_logins').addColumn(name, type).execute();
  await add('icon_url', 'text');
  await add('description', 'text');
  await add('api_key_sealed', 'text');
  await add('bearer_token_sealed', 'text');
  await add('additional_credentials_sealed', 'text');
  await add('additional_credential_keys', 'text');
  await add('is_manual_authentication', 'integer');
  await add('support_concurrent_logins', 'integer');
  await add('supports_agent_concurrency', 'integer');
  await add('use_llm_login_detection', 'integer');
  await add('login_detection_prompt', 'text');
  await add('login_instructions_prompt', 'text');
  await add('selectors', 'text');
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const column of [
    'selectors',
    'login_instructions_prompt',
    'login_detection_prompt',
    'use_llm_login_detection',
    'supports_agent_concurrency',
    'support_concurrent_logins',
    'is_manual_authentication',
    'additional_credential_keys',
    'additional_credentials_sealed',
    'bearer_token_sealed',
    'api_key_sealed',
    'description',
    'icon_url',
  ]) {
    await db.schema.alterTable('vault_logins').dropColumn(column).execute();
  }
  await db.schema.dropTable('vault_runs').execute();
}
