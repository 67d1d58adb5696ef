import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isPlaceholderKey } from '../crypto/index.js';
import { ConfigError } from './config-error.js';
import type { Config } from './schema.js';
import { parseMasterKey } from './values.js';

/** OWASP's weakest argon2id configuration (m=7 MiB, t=5): less memory, or less memory × iterations, is refused in production. */
const ARGON2_MIN_MEMORY_KIB = 7168;
const ARGON2_MIN_COST = 7168 * 5;

function refuse(message: string): never {
  throw new ConfigError(`${message} (NODE_ENV=production)`);
}

/**
 * The master key must be given, never generated: a key generated into one instance's data directory
 * seals data that no other instance (and no restore onto a new disk) can open.
 */
function checkMasterKey(config: Config): void {
  if (config.masterKey) {
    if (isPlaceholderKey(config.masterKey)) {
      refuse('PORTCULLIS_MASTER_KEY is a placeholder, not a random key: generate one with openssl rand -base64 32');
    }
    return;
  }
  const file = config.masterKeyFile;
  if (file === undefined) {
    const generated = join(config.dataDir, 'master.key');
    const hint = existsSync(generated) ? `; to keep the key generated earlier, set PORTCULLIS_MASTER_KEY_FILE=${generated}` : '';
    refuse(`no master key: set PORTCULLIS_MASTER_KEY or PORTCULLIS_MASTER_KEY_FILE, none is generated in production${hint}`);
  }
  if (!existsSync(file)) refuse(`PORTCULLIS_MASTER_KEY_FILE points at ${file}, which does not exist`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    refuse(`PORTCULLIS_MASTER_KEY_FILE ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (isPlaceholderKey(parseMasterKey(text, `PORTCULLIS_MASTER_KEY_FILE ${file}`))) {
    refuse(`PORTCULLIS_MASTER_KEY_FILE ${file} holds a placeholder, not a random key: generate one with openssl rand -base64 32`);
  }
}

/**
 * Cookies, tokens and passwords to an `http://` public URL cross the network in clear, and cookies
 * lose `Secure`. Loopback gets no exception: the default public URL is `http://localhost:<port>`,
 * so exempting it would let an instance that forgot its public URL start with a wrong issuer.
 */
function checkPublicUrl(config: Config): void {
  if (config.publicUrl.startsWith('http://') && !config.allowInsecurePublicUrl) {
    refuse(
      `PORTCULLIS_PUBLIC_URL must be https://, got ${config.publicUrl}; set PORTCULLIS_ALLOW_INSECURE_PUBLIC_URL=true to serve it over http`,
    );
  }
}

/** Values that exist for tests and development, never for an instance that holds real accounts. */
function checkDevelopmentValues(config: Config): void {
  if (config.idpAllowPrivateHosts) throw new ConfigError('PORTCULLIS_IDP_ALLOW_PRIVATE_HOSTS cannot be true when NODE_ENV=production');
  if (config.webhooks.allowPrivateHosts) {
    throw new ConfigError('PORTCULLIS_WEBHOOKS_ALLOW_PRIVATE_HOSTS cannot be true when NODE_ENV=production');
  }
  const { memoryKiB, timeCost } = config.argon2;
  if (memoryKiB < ARGON2_MIN_MEMORY_KIB || memoryKiB * timeCost < ARGON2_MIN_COST) {
    refuse(
      `PORTCULLIS_ARGON2_MEMORY_KIB=${memoryKiB} with PORTCULLIS_ARGON2_TIME_COST=${timeCost} is below OWASP's argon2id minimum (7168 KiB, and memory × iterations at least 35840; the default is 19456 × 2)`,
    );
  }
  if (config.databaseUrl?.startsWith('sqlite::memory:')) {
    refuse('PORTCULLIS_DATABASE_URL=sqlite::memory: forgets every account when the process ends');
  }
}

/**
 * `NODE_ENV=production` refuses to start without a configured master key, with an `http://` public
 * URL unless `PORTCULLIS_ALLOW_INSECURE_PUBLIC_URL` is true, and with development values. Throws a
 * one-line `ConfigError` naming the variable; never quotes a secret.
 */
export function refuseInProduction(config: Config): void {
  checkMasterKey(config);
  checkPublicUrl(config);
  checkDevelopmentValues(config);
}
