import type { Command } from 'commander';

/** `keys rotate` (token signing keys) and `keys rotate-master` land with the sessions and vault domains. */
export function registerKeyCommands(program: Command): Command {
  return program.command('keys').description('Rotate token signing keys and the master key');
}
