export { ConfigError } from './config-error.js';
export { loadConfig } from './load.js';
export type { Argon2Config, Config, ConfigOption, OptionMeta } from './schema.js';
export { ConfigSchema, configOptions, documentedDefault } from './schema.js';
export { parseMasterKey } from './values.js';
