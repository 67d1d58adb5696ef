export { createMasterKeyring, keyId, type MasterKeyring, open, seal } from './envelope.js';
export {
  type FirebaseHashConfig,
  type ForeignScheme,
  firebaseHash,
  HashFormatError,
  keycloakCredentialHash,
  type NormalizedHash,
  normalizeForeignHash,
  verifyForeignHash,
} from './foreign-hash.js';
export { isPlaceholderKey } from './key-strength.js';
export { type Argon2Params, createPasswordHasher, type PasswordHasher } from './password.js';
export { constantTimeEqual, newId, randomToken, secretEquals, sha256Hex } from './random.js';
export { SEAL_PURPOSES, type SealLabelIds, type SealPurpose, sealLabel } from './seal-label.js';
export {
  type ColumnReport,
  columnName,
  createSealedRegistry,
  type DataKeySealedColumn,
  type MasterSealedColumn,
  type ResealDeps,
  type RotationReport,
  type SealedColumn,
  type SealedRegistry,
  type SealedRows,
  type SealedValue,
} from './sealed-registry.js';
export { Secret } from './secret.js';
export { createSemaphore } from './semaphore.js';
export * from './totp/totp.js';
