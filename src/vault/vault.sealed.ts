import type { DataKeySealedColumn, MasterSealedColumn } from '../crypto/index.js';
import { dataKeyAad } from './vault.keys.js';
import { createVaultRepo } from './vault.repo.js';

const DATA_KEYS = 'vault_data_keys.wrapped_key';

/** A vault column sealed under its organization's data key: covered when the data keys are re-sealed. */
const underDataKey = (table: string, column: string, holds: string): DataKeySealedColumn => ({
  owner: 'vault',
  kind: 'data_key',
  table,
  column,
  holds,
  wrappedBy: DATA_KEYS,
});

/**
 * What the vault seals. Only the organizations' data keys are sealed under the master key; every
 * secret field is sealed under its organization's data key, so re-sealing the data keys is the
 * whole of a master key rotation for the vault (the fields' ciphertexts do not change).
 */
export const vaultSealedColumns: readonly [MasterSealedColumn, ...DataKeySealedColumn[]] = [
  {
    owner: 'vault',
    kind: 'master_key',
    table: 'vault_data_keys',
    column: 'wrapped_key',
    holds: "each organization's vault data key (seals the vault columns below)",
    labelOf: dataKeyAad,
    rows({ db, keyring, now }) {
      const repo = createVaultRepo(db);
      return {
        page: async (after, limit) => (await repo.pageDataKeys(after, limit)).map((r) => ({ key: r.organizationId, sealed: r.wrappedKey })),
        read: async (organizationId) => (await repo.findDataKey(organizationId))?.wrappedKey,
        swap: (organizationId, previous, next) =>
          repo.updateDataKey(organizationId, previous, { wrappedKey: next, masterKeyId: keyring.currentId, updatedAt: now.toISOString() }),
      };
    },
  },
  underDataKey('vault_logins', 'password_sealed', 'vault login passwords'),
  underDataKey('vault_logins', 'totp_secret_sealed', 'vault login TOTP seeds'),
  underDataKey('vault_logins', 'proxy_password_sealed', 'vault login proxy passwords'),
  underDataKey('vault_logins', 'session_state_sealed', 'persisted browser sessions of vault logins'),
  underDataKey('vault_email_codes', 'value_sealed', 'captured emailed 2FA codes and links'),
  underDataKey('vault_logins', 'api_key_sealed', 'vault login API keys'),
  underDataKey('vault_logins', 'bearer_token_sealed', 'vault login bearer tokens'),
  underDataKey('vault_logins', 'additional_credentials_sealed', 'vault login additional credentials (keys and values)'),
  underDataKey('vault_runs', 'screenshot_sealed', "screenshots of the login runner's failed sign-ins (expiring)"),
];
