export { ConfigError, loadConfig, parseMasterKey } from './load.js';
export { loadMasterKeyring } from './master-key.js';
export * from './schema.js';
