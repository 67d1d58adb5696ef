import type { Command } from 'commander';
import { loadConfig, loadMasterKeyring } from '../config/index.js';
import { SEALED_REGISTRY } from '../sealed-columns.js';
import { createStorage } from '../storage/index.js';
import { withApp } from './context.js';

/** The procedure `keys rotate-master --help` prints under the registry's list. */
const ROTATE_MASTER_PROCEDURE = `
Procedure:
  1. Make a new key (openssl rand -base64 32). Keep the old one until step 5.
  2. Restart every instance with the new key in PORTCULLIS_MASTER_KEY (or the key file) and the old
     one in PORTCULLIS_PREVIOUS_MASTER_KEY: they open values sealed under either key and seal new
     values under the new one. (A single instance may instead stay stopped until step 5.)
  3. Run \`portcullis keys rotate-master\` with the same two keys. It re-seals every value above that
     only the old key opens, one row at a time, and prints a JSON report of counts per column (never
     a value). It is safe to run again. It exits 1 when a value opens under neither key; such values
     are left unchanged: check the keys and run it again.
  4. Run it once more with only the new key (no PORTCULLIS_PREVIOUS_MASTER_KEY): it changes nothing,
     and exits 0 only when the new key alone opens every sealed value.
  5. Restart every instance with only the new key, and destroy the old one.`;

/** `keys rotate` (token signing keys) and `keys rotate-master` (re-seal what the master key protects). */
export function registerKeyCommands(program: Command): Command {
  const keys = program.command('keys').description('Rotate token signing keys and the master key');
  keys
    .command('rotate')
    .description('Add a new token signing key; the previous one keeps verifying until its tokens expire')
    .action(async () => {
      await withApp(async (app) => {
        const kid = await app.services.keys.rotate();
        console.log(`New signing key ${kid}; every instance picks it up on its next unknown-kid check or restart.`);
      });
    });

  keys
    .command('rotate-master')
    .description(
      'Re-seal everything the master key protects under the current master key (PORTCULLIS_MASTER_KEY or the key file), ' +
        'opening it with the previous one (PORTCULLIS_PREVIOUS_MASTER_KEY)',
    )
    .addHelpText('after', `\n${SEALED_REGISTRY.describe()}\n${ROTATE_MASTER_PROCEDURE}`)
    .action(async () => {
      // Only storage, the keyring and the registry: the app is not built, so nothing else is opened
      // (the signing keys are among the values being re-sealed) and no key is ever generated here.
      const config = loadConfig({ ...process.env, PORTCULLIS_LOG_LEVEL: process.env.PORTCULLIS_LOG_LEVEL ?? 'warn' });
      const keyring = loadMasterKeyring(config, null);
      if (!config.previousMasterKey) {
        console.error('portcullis: no PORTCULLIS_PREVIOUS_MASTER_KEY: checking that the current master key opens every sealed value');
      }
      const storage = createStorage({ url: config.databaseUrl, dataDir: config.dataDir });
      try {
        await storage.migrate();
        const report = await SEALED_REGISTRY.reseal({ db: storage.db, keyring, now: new Date() });
        console.log(JSON.stringify(report));
        if (!report.ok) {
          // Why: an operator who drops the old key after a pass that left values behind loses them; say so and fail.
          console.error(
            `portcullis: ${report.unreadable} sealed value(s) open under neither master key and ${report.contended} kept changing; ` +
              'they were left unchanged (row keys in the report). Keep the previous key, check the keys and run again.',
          );
          process.exitCode = 1;
        }
      } finally {
        await storage.close();
      }
    });
  return keys;
}
