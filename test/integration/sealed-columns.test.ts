import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { columnName, createSealedRegistry, type SealedRegistry } from '../../src/crypto/index.js';
import { federationSealedColumns } from '../../src/federation/index.js';
import { SEALED_REGISTRY } from '../../src/sealed-columns.js';
import { signingKeysSealedColumns } from '../../src/sessions/signing-keys.js';
import { createStorage, type Storage } from '../../src/storage/index.js';
import { vaultSealedColumns } from '../../src/vault/index.js';
import { webhooksSealedColumns } from '../../src/webhooks/index.js';
import { PG_URL, unique } from '../helpers/test-app.js';

/** @see issue 14 — every sealed column in one registry; a column holding sealed data without a re-sealer fails here. */

/** How the schema names a column that holds sealed data: `*_sealed`, and the vault's `wrapped_key`. */
const SEALED_NAME = /(_sealed$|^wrapped_)/;

let storage: Storage;
let pgSchema: string | undefined;
/** Every column of the migrated database as `table.column`, read from the database's own catalogue. */
let columns: Set<string>;

beforeAll(async () => {
  if (PG_URL) {
    pgSchema = unique('sealed_');
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`create schema ${pgSchema}`);
    await client.end();
  }
  storage = createStorage({ url: PG_URL ?? 'sqlite::memory:', dataDir: '/tmp/portcullis-test-unused', ...(pgSchema ? { pgSchema } : {}) });
  await storage.migrate();
  const tables = await storage.db.introspection.getTables();
  columns = new Set(
    tables
      .filter((t) => (pgSchema ? t.schema === pgSchema : true) && !t.name.startsWith('kysely_'))
      .flatMap((t) => t.columns.map((c) => `${t.name}.${c.name}`)),
  );
});
afterAll(async () => {
  await storage?.close();
  if (pgSchema) {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`drop schema if exists ${pgSchema} cascade`);
    await client.end();
  }
});

/** Columns the schema names as sealed that the registry does not list (so no rotation would re-seal them). */
const unregistered = (registry: SealedRegistry): string[] => {
  const listed = new Set(registry.columns.map(columnName));
  return [...columns].filter((c) => SEALED_NAME.test(c.split('.')[1] ?? '') && !listed.has(c)).sort();
};

describe(`sealed-column registry against the ${PG_URL ? 'PostgreSQL' : 'SQLite'} schema`, () => {
  it('lists every column of the schema that holds sealed data', () => {
    expect(columns.size).toBeGreaterThan(50);
    expect(unregistered(SEALED_REGISTRY)).toEqual([]);
  });

  it('notices a domain that registers nothing: without MFA, its TOTP columns are reported', () => {
    const withoutMfa = createSealedRegistry([vaultSealedColumns, signingKeysSealedColumns, federationSealedColumns, webhooksSealedColumns]);
    expect(unregistered(withoutMfa)).toEqual(['user_mfa.pending_secret_sealed', 'user_mfa.secret_sealed']);
  });

  it('names only columns that exist, and re-seals each directly or through the data key that seals it', () => {
    for (const c of SEALED_REGISTRY.columns) {
      expect(columns.has(columnName(c)), columnName(c)).toBe(true);
      if (c.kind === 'data_key') expect(SEALED_REGISTRY.masterSealed.map(columnName)).toContain(c.wrappedBy);
      else expect(typeof c.rows).toBe('function');
    }
    expect(SEALED_REGISTRY.masterSealed.map(columnName).sort()).toEqual([
      'auth_flows.code_verifier_sealed',
      'identity_providers.client_secret_sealed',
      'signing_keys.private_jwk_sealed',
      'user_mfa.pending_secret_sealed',
      'user_mfa.secret_sealed',
      'vault_data_keys.wrapped_key',
      'webhook_endpoints.previous_secret_sealed',
      'webhook_endpoints.secret_sealed',
    ]);
  });

  it('notices the webhook secrets when the webhooks domain registers nothing', () => {
    const withoutWebhooks = createSealedRegistry(SEALED_REGISTRY.columns.filter((c) => c.owner !== 'webhooks').map((c) => [c]));
    expect(unregistered(withoutWebhooks)).toEqual(['webhook_endpoints.previous_secret_sealed', 'webhook_endpoints.secret_sealed']);
  });
});
