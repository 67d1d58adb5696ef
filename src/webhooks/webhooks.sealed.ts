import { type MasterSealedColumn, sealLabel } from '../crypto/index.js';
import { sealedSecretRows } from './webhooks.repo.js';

/** Associated data of an endpoint's signing secret (the current one and, after a rotation, the previous one). */
export const endpointSecretAad = (endpointId: string): string => sealLabel('webhooks.endpoint_secret', endpointId);

/** What the webhooks domain seals under the master key: registered for `keys rotate-master`. */
export const webhooksSealedColumns: readonly MasterSealedColumn[] = [
  {
    owner: 'webhooks',
    kind: 'master_key',
    table: 'webhook_endpoints',
    column: 'secret_sealed',
    holds: 'webhook endpoint signing secrets',
    labelOf: endpointSecretAad,
    rows: ({ db }) => sealedSecretRows(db, 'secretSealed'),
  },
  {
    owner: 'webhooks',
    kind: 'master_key',
    table: 'webhook_endpoints',
    column: 'previous_secret_sealed',
    holds: 'webhook endpoint signing secrets still in their grace period after a rotation',
    labelOf: endpointSecretAad,
    rows: ({ db }) => sealedSecretRows(db, 'previousSecretSealed'),
  },
];
