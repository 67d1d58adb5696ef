import type { Command } from 'commander';
import { withApp } from './context.js';

/** `keys rotate` (token signing keys) and `keys rotate-master` (re-wrap what the master key protects). */
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
      'Re-wrap every vault data key, token signing key and identity-provider client secret under the current master key. Run with the new key in PORTCULLIS_MASTER_KEY (or the key file) ' +
        'and the old one in PORTCULLIS_PREVIOUS_MASTER_KEY; running servers keep working throughout. Drop the previous key afterwards.',
    )
    .action(async () => {
      await withApp(async (app) => {
        const count = await app.services.vault.rotateMasterKey();
        const signingKeys = await app.services.keys.rewrap();
        const identityProviders = await app.services.idps.rewrapSecrets();
        console.log(JSON.stringify({ rewrapped: count, signingKeys, identityProviders, masterKeyId: app.services.keyring.currentId }));
      });
    });
  return keys;
}
