import { randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { type MasterKeyring, open, Secret, seal, sealLabel } from '../crypto/index.js';
import { AppError } from '../errors/index.js';
import type { VaultRepo } from './vault.repo.js';

/** Associated data of an organization's wrapped data key. */
export const dataKeyAad = (organizationId: string): string => sealLabel('vault.data_key', organizationId);

/** Associated data of one sealed field: the ciphertext only opens in this organization, row and field. */
const fieldAad = (organizationId: string, rowId: string, field: string): string => sealLabel('vault.field', organizationId, rowId, field);

/** One organization's data key, ready to seal and open that organization's fields (synchronously). */
export interface OrgCipher {
  seal(rowId: string, field: string, plaintext: string): string;
  /** A ciphertext moved to another organization, row or field throws `vault.secret_unreadable`. */
  open(rowId: string, field: string, sealed: string): Secret;
}

export interface DataKeys {
  forOrganization(organizationId: string): Promise<OrgCipher>;
}

/**
 * Envelope encryption: one random 256-bit data key per organization, stored wrapped by the master
 * key. Unwrapped data keys are cached in process memory (bounded), never written anywhere.
 */
export function createDataKeys(deps: { repo: VaultRepo; keyring: MasterKeyring; now?: () => Date }): DataKeys {
  const { repo, keyring } = deps;
  const now = deps.now ?? (() => new Date());
  const cache = new LRUCache<string, Secret<Buffer>>({ max: 1000 });

  async function dataKey(organizationId: string): Promise<Buffer> {
    const hit = cache.get(organizationId);
    if (hit) return hit.unwrap();
    let row = await repo.findDataKey(organizationId);
    if (!row) {
      const at = now().toISOString();
      // Two instances may race here: the insert does nothing when a key already exists, and both read the winner.
      await repo.insertDataKeyIfAbsent({
        organizationId,
        wrappedKey: keyring.wrap(randomBytes(32), dataKeyAad(organizationId)),
        masterKeyId: keyring.currentId,
        createdAt: at,
        updatedAt: at,
      });
      row = await repo.findDataKey(organizationId);
    }
    if (!row) throw new AppError('server_error', { detail: 'vault data key missing after insert' });
    let key: Buffer;
    try {
      key = keyring.unwrap(row.wrappedKey, dataKeyAad(organizationId));
    } catch (cause) {
      throw new AppError('vault.secret_unreadable', { detail: 'data key does not unwrap under the master keyring', cause });
    }
    cache.set(organizationId, new Secret(key));
    return key;
  }

  return {
    async forOrganization(organizationId) {
      const key = await dataKey(organizationId);
      return {
        seal: (rowId, field, plaintext) => seal(key, plaintext, fieldAad(organizationId, rowId, field)),
        open(rowId, field, sealed) {
          try {
            return new Secret(open(key, sealed, fieldAad(organizationId, rowId, field)).toString('utf8'));
          } catch (cause) {
            throw new AppError('vault.secret_unreadable', { detail: `field ${field} of ${rowId} does not open`, cause });
          }
        },
      };
    },
  };
}
