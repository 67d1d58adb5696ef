import type { Command } from 'commander';
import { withApp } from './context.js';

/** `keys rotate` (token signing keys) lands with the sessions domain; `keys rotate-master` re-wraps vault data keys. */
export function registerKeyCommands(program: Command): Command {
  const keys = program.command('keys').description('Rotate token signing keys and the master key');

  keys
    .command('rotate-master')
    .description(
      'Re-wrap every vault data key under the current master key. Run with the new key in PORTCULLIS_MASTER_KEY (or the key file) ' +
        'and the old one in PORTCULLIS_PREVIOUS_MASTER_KEY; running servers keep working throughout. Drop the previous key afterwards.',
    )
    .action(async () => {
      await withApp(async (app) => {
        const count = await app.services.vault.rotateMasterKey();
        console.log(JSON.stringify({ rewrapped: count, masterKeyId: app.services.keyring.currentId }));
      });
    });

  return keys;
}
