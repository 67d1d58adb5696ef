import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { AppError } from '../errors/index.js';
import { DEFAULT_ORGANIZATION } from '../identity/index.js';
import { IMPORT_FORMATS, type ImportFormat } from '../portability/index.js';
import { operatorContext, withApp } from './context.js';

/** A one-line progress bar on stderr (redrawn at most ten times a second; a plain line per batch when stderr is no terminal). */
export function progressBar(stream: NodeJS.WriteStream = process.stderr) {
  const started = Date.now();
  let drawn = 0;
  return (done: number, total: number) => {
    const now = Date.now();
    if (done < total && now - drawn < 100) return;
    drawn = now;
    const ratio = total ? done / total : 1;
    const width = 30;
    const filled = Math.round(ratio * width);
    const rate = Math.round(done / Math.max((now - started) / 1000, 0.001));
    const text = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.floor(ratio * 100)}% ${done}/${total} ${rate}/s`;
    if (stream.isTTY) stream.write(`\r${text}${done >= total ? '\n' : ''}`);
    else stream.write(`${text}\n`);
  };
}

interface ImportOptions {
  org?: string;
  format: string;
  dryRun?: boolean;
  allowUnsalted?: boolean;
  replacePasswords?: boolean;
  hashKey?: string;
  saltSeparator?: string;
  rounds?: string;
  memCost?: string;
  progress: boolean;
}

export function registerPortabilityCommands(program: Command): void {
  program
    .command('import <file>')
    .description('Import users with their password hashes (JSON lines or a JSON array; Keycloak, Auth0 and Firebase exports)')
    .option('--org <name>', 'organization name', DEFAULT_ORGANIZATION)
    .option('--format <format>', `one of ${IMPORT_FORMATS.join(', ')}`, 'portcullis')
    .option('--dry-run', 'check every line and count; write nothing')
    .option('--allow-unsalted', 'accept unsalted MD5/SHA-1 hashes (those users must change their password at first sign-in)')
    .option('--replace-passwords', 'also replace passwords users set or signed in with since an earlier import')
    .option('--hash-key <base64>', 'Firebase: the project signer key (base64_signer_key)')
    .option('--salt-separator <base64>', 'Firebase: base64_salt_separator')
    .option('--rounds <n>', 'Firebase: rounds')
    .option('--mem-cost <n>', 'Firebase: mem_cost')
    .option('--no-progress', 'no progress bar on stderr')
    .action(async (file: string, opts: ImportOptions) => {
      if (!(IMPORT_FORMATS as readonly string[]).includes(opts.format)) {
        throw new AppError('request.invalid', { detail: `--format must be one of ${IMPORT_FORMATS.join(', ')}` });
      }
      const firebase =
        opts.hashKey !== undefined
          ? {
              signerKey: opts.hashKey,
              saltSeparator: opts.saltSeparator ?? '',
              rounds: Number(opts.rounds ?? 8),
              memCost: Number(opts.memCost ?? 14),
            }
          : undefined;
      const text = readFileSync(file, 'utf8');
      await withApp(async (app) => {
        const org = await app.services.organizations.findByName(opts.org ?? DEFAULT_ORGANIZATION);
        if (!org) throw new AppError('resource.not_found', { detail: `no organization named ${opts.org}` });
        const report = await app.services.portability.importText(
          operatorContext(org.id),
          text,
          {
            format: opts.format as ImportFormat,
            organizationId: org.id,
            dryRun: opts.dryRun,
            allowUnsalted: opts.allowUnsalted,
            replacePasswords: opts.replacePasswords,
            firebase,
          },
          opts.progress ? progressBar() : undefined,
        );
        for (const e of report.errors) process.stderr.write(`line ${e.line}: ${e.field || '(line)'}: ${e.reason}\n`);
        const { errors: _errors, ...summary } = report;
        console.log(JSON.stringify(summary));
        if (report.failed > 0) process.exitCode = 2;
      });
    });

  program
    .command('export')
    .description('Write the users of an organization as JSON lines (roles, groups, MFA flags, password hashes) to stdout')
    .option('--org <name>', 'organization name', DEFAULT_ORGANIZATION)
    .option('--include-secrets', 'refused: TOTP seeds, vault secrets and API key hashes are never exported by this version')
    .action(async (opts: { org: string; includeSecrets?: boolean }) => {
      if (opts.includeSecrets) {
        throw new AppError('request.invalid', {
          detail: '--include-secrets is not supported yet: TOTP seeds, vault secrets and API key hashes stay in this instance',
        });
      }
      await withApp(async (app) => {
        const org = await app.services.organizations.findByName(opts.org);
        if (!org) throw new AppError('resource.not_found', { detail: `no organization named ${opts.org}` });
        let buffer = '';
        for await (const user of app.services.portability.exportUsers(operatorContext(org.id), org.id)) {
          buffer += `${JSON.stringify(user)}\n`;
          if (buffer.length > 1 << 16) {
            if (!process.stdout.write(buffer)) await new Promise((r) => process.stdout.once('drain', r));
            buffer = '';
          }
        }
        process.stdout.write(buffer);
      });
    });
}
