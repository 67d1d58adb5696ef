import type { Migration } from 'kysely';
import * as m0001 from './0001_foundation.js';
import * as m0002 from './0002_sessions.js';
import * as m0003 from './0003_vault.js';
import * as m0004 from './0004_directory.js';
import * as m0005 from './0005_mfa.js';
import * as m0006 from './0006_federation.js';
import * as m0007 from './0007_vault_inbox_claims.js';
import * as m0008 from './0008_oidc_provider.js';
import * as m0009 from './0009_vault_runner.js';
import * as m0010 from './0010_user_import.js';
import * as m0011 from './0011_webhooks.js';
import * as m0012 from './0012_passkeys.js';

/** Every migration, by name. Names sort in the order they run; one set serves SQLite and PostgreSQL. */
export const MIGRATIONS: Record<string, Migration> = {
  '0001_foundation': m0001,
  '0002_sessions': m0002,
  '0003_vault': m0003,
  '0004_directory': m0004,
  '0006_federation': m0006,
  '0005_mfa': m0005,
  '0007_vault_inbox_claims': m0007,
  '0008_oidc_provider': m0008,
  '0009_vault_runner': m0009,
  '0010_user_import': m0010,
  '0011_webhooks': m0011,
  '0012_passkeys': m0012,
};
