#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { ConfigError } from '../config/index.js';
import { AppError } from '../errors/index.js';
import { registerAdminCommands } from './admin.js';
import { registerKeyCommands } from './keys.js';
import { registerPortabilityCommands } from './portability.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command().name('portcullis').description('Self-hosted identity and credential service').version(pkg.version);

program
  .command('serve')
  .description('Run the HTTP server (migrates first)')
  .action(async () => {
    const { startServer } = await import('../main.js');
    await startServer();
  });

program
  .command('migrate')
  .description('Apply database migrations and exit')
  .action(async () => {
    const { loadConfig } = await import('../config/index.js');
    const { createStorage } = await import('../storage/index.js');
    const config = loadConfig();
    const storage = createStorage({ url: config.databaseUrl, dataDir: config.dataDir });
    const applied = await storage.migrate();
    console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'Database is up to date.');
    await storage.close();
  });

program
  .command('openapi')
  .description('Print the OpenAPI 3.1 document of this version (what GET /openapi.json serves)')
  .option('-o, --out <file>', 'write to a file instead of stdout')
  .action(async (opts: { out?: string }) => {
    const { writeFileSync } = await import('node:fs');
    const { withApp } = await import('./context.js');
    const text = await withApp(async (app) => {
      await app.ready();
      return `${JSON.stringify(app.swagger(), null, 2)}\n`;
    });
    if (opts.out) writeFileSync(opts.out, text);
    else process.stdout.write(text);
  });

registerAdminCommands(program);
registerKeyCommands(program);
registerPortabilityCommands(program);

program.parseAsync().catch((err: unknown) => {
  if (err instanceof ConfigError) console.error(`portcullis: configuration error: ${err.message}`);
  else if (err instanceof AppError)
    console.error(
      `portcullis: ${err.code}: ${err.message}${err.detail ? ` (${err.detail})` : ''}${err.details ? ` [${err.details.join(', ')}]` : ''}`,
    );
  else console.error(`portcullis: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
