import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createMasterKeyring, type MasterKeyring, Secret } from '../crypto/index.js';
import { ConfigError } from './config-error.js';
import type { Config } from './schema.js';
import { parseMasterKey } from './values.js';

/**
 * Resolves the master key: `PORTCULLIS_MASTER_KEY`, else the key file, else a new key
 * generated into the key file (mode 0600) — `onGenerated` is told so it can warn; never in production. With
 * `onGenerated: null` no key is generated: a missing key is a `ConfigError` (`keys rotate-master`
 * must work with the keys that sealed the data, never with a fresh one).
 */
export function loadMasterKeyring(config: Config, onGenerated: ((path: string) => void) | null): MasterKeyring {
  if (config.masterKey) return createMasterKeyring(config.masterKey, config.previousMasterKey);
  const file = config.masterKeyFile ?? join(config.dataDir, 'master.key');
  if (existsSync(file)) {
    // Why: a key file generated into the data directory is ours; an earlier version or a copy may have left it readable by others.
    if (!config.masterKeyFile) chmodSync(file, 0o600);
    const key = parseMasterKey(readFileSync(file, 'utf8'), `master key file ${file}`);
    return createMasterKeyring(key, config.previousMasterKey);
  }
  if (config.masterKeyFile) throw new ConfigError(`PORTCULLIS_MASTER_KEY_FILE points at ${file}, which does not exist`);
  // Why production too: a key generated into one instance's disk seals data no other instance can open (loadConfig refuses first).
  if (onGenerated === null || config.env === 'production')
    throw new ConfigError(`no master key: set PORTCULLIS_MASTER_KEY or PORTCULLIS_MASTER_KEY_FILE (${file} does not exist)`);
  // The key is generated only into the data directory: keep that directory private as storage does.
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  chmodSync(dirname(file), 0o700);
  const key = randomBytes(32);
  writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  onGenerated(file);
  return createMasterKeyring(new Secret(key), config.previousMasterKey);
}
