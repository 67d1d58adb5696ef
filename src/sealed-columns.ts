import { createSealedRegistry, type SealedRegistry } from './crypto/index.js';
import { federationSealedColumns } from './federation/index.js';
import { mfaSealedColumns } from './mfa/index.js';
import { signingKeysSealedColumns } from './sessions/index.js';
import { vaultSealedColumns } from './vault/index.js';
import { webhooksSealedColumns } from './webhooks/index.js';

/**
 * Everything sealed under the master key, directly or through a data key, as each owning domain
 * registers it: the list `keys rotate-master` walks (and only it) and its help prints. A domain
 * that seals something new under the master key adds its registration here;
 * `test/integration/sealed-columns.test.ts` fails when a column of the database holding sealed
 * data is missing.
 */
export const SEALED_REGISTRY: SealedRegistry = createSealedRegistry([
  vaultSealedColumns,
  signingKeysSealedColumns,
  federationSealedColumns,
  mfaSealedColumns,
  webhooksSealedColumns,
]);
