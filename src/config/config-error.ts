/** A configuration value that cannot be used. The message names the variable, on one line, and never holds a secret. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
