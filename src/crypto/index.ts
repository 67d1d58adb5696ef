export { createMasterKeyring, keyId, type MasterKeyring, open, seal } from './envelope.js';
export { loadMasterKeyring } from './master-key.js';
export { createPasswordHasher, type PasswordHasher } from './password.js';
export { constantTimeEqual, newId, randomToken, secretEquals, sha256Hex } from './random.js';
export { Secret } from './secret.js';
export { createSemaphore } from './semaphore.js';
