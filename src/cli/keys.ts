import type { Command } from 'commander';
import { SEALED_REGISTRY } from '../app.js';
import { withApp } from './context.js';

/** The procedure `keys rotate-master --help` prints under the registry's list. */
const ROTATE_MASTER_PROCEDURE = `
Procedure:
  1. Make a new key (openssl rand -base64 32). Keep the old one until step 5.
  2. Restart every instance with the new key in PORTCULLIS_MASTER_KEY (or the key file) and the old
     one in PORTCULLIS_PREVIOUS_MASTER_KEY: they open values sealed under either key and seal new
     values under the new one. (One instance and a short stop allowed: stop it instead.)
  3. Run \`portcullis keys rotate-master\` with the same two keys. It re-seals every value above that
     only the old key opens, one row at a time, and prints a JSON report of counts per column (never
     a value). It exits 1 when a value opens under neither key; such values are left unchanged:
     check the keys and run it again.
  4. Run it again: it is safe to repeat, and "resealed": 0 shows nothing is left under the old key.
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
      await withApp(async (app) => {
        const { storage, keyring, sealed } = app.services;
        const report = await sealed.reseal({ db: storage.db, keyring, now: new Date() });
        console.log(JSON.stringify(report));
        if (!report.ok) {
          // Why: an operator who drops the old key after a pass that left values behind loses them; say so and fail.
          console.error(
            `portcullis: ${report.unreadable} sealed value(s) open under neither master key and ${report.contended} kept changing; ` +
              'they were left unchanged (row keys in the report). Do not drop the previous key: check PORTCULLIS_PREVIOUS_MASTER_KEY and run again.',
          );
          process.exitCode = 1;
        }
      });
    });
  return keys;
}
