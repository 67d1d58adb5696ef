export { ConfigError } from './config-error.js';
export { loadConfig } from './load.js';
export { loadMasterKeyring } from './master-key.js';
export type { Argon2Config, Config, ConfigOption, OptionMeta } from './schema.js';
export { ConfigSchema, configOptions, documentedDefault } from './schema.js';
export { parseMasterKey } from './values.js';
