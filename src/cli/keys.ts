import type { Command } from 'commander';
import { withApp } from './context.js';

/** `keys rotate` (token signing keys); the vault domain adds `keys rotate-master`. */
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
  return keys;
}
