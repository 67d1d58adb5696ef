import { ConfigError } from './config-error.js';
import type { Config } from './schema.js';

/** `NODE_ENV=production` refuses development shortcuts. Throws a one-line `ConfigError` naming the variable. */
export function refuseInProduction(config: Config): void {
  if (config.idpAllowPrivateHosts) throw new ConfigError('PORTCULLIS_IDP_ALLOW_PRIVATE_HOSTS cannot be true when NODE_ENV=production');
}
