export { ConfigError, loadConfig, parseMasterKey } from './load.js';
export type { Argon2Config, Config } from './schema.js';
export { OPTION_DOCS } from './schema.js';
