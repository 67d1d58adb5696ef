import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The README's "First run" walkthrough, run as written: its sh blocks between the first-run markers
// go to bash (set -euo pipefail) against a real `portcullis serve` on a random port, with only PC and
// ADMIN_PASSWORD (the generated password the server printed) set, as the README tells a reader to.
// The server gets a fresh SQLite data directory whatever backend the suite runs on: a first run starts
// from an empty database.

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const root = new URL('../..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'portcullis-first-run-'));
let server: ChildProcess | undefined;
let output = '';
let pc = '';

function walkthrough(): string[] {
  const start = readme.indexOf('<!-- first-run');
  const end = readme.indexOf('<!-- /first-run -->');
  expect(start, 'README has a <!-- first-run … --> marker').toBeGreaterThan(-1);
  expect(end, 'README has a <!-- /first-run --> marker').toBeGreaterThan(start);
  return [...readme.slice(start, end).matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return typeof address === 'object' && address ? address.port : 0;
}

beforeAll(async () => {
  const port = await freePort();
  pc = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('PORTCULLIS_')) env[k] = v;
  Object.assign(env, {
    PORTCULLIS_PORT: String(port),
    PORTCULLIS_HOST: '127.0.0.1',
    PORTCULLIS_DATA_DIR: dir,
    PORTCULLIS_ARGON2_MEMORY_KIB: '64',
    PORTCULLIS_ARGON2_TIME_COST: '1',
    PORTCULLIS_LOG_LEVEL: 'info',
  });
  server = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'serve'], { cwd: root, env });
  await new Promise<void>((resolve, reject) => {
    const seen = (chunk: Buffer) => {
      output += String(chunk);
      if (/Server listening at/.test(output) && /generated password: \S+/.test(output)) resolve();
    };
    server!.stdout!.on('data', seen);
    server!.stderr!.on('data', seen);
    server!.on('exit', (code) => reject(new Error(`portcullis serve exited with ${code}:\n${output}`)));
  });
}, 120_000);

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server!.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('README first run', () => {
  it('shows the bootstrap line the server prints', () => {
    const line = /^Created superadmin "admin" with generated password: /m;
    expect(output).toMatch(line);
    expect(readme).toMatch(line);
  });

  it('runs every shell block of the walkthrough against a live server on a random port', async () => {
    const blocks = walkthrough();
    expect(blocks.length).toBeGreaterThanOrEqual(4);
    const password = /generated password: (\S+)/.exec(output)![1]!;
    const script = `set -euo pipefail\n${blocks.join('\n')}`;
    const { stdout, stderr, code } = await new Promise<{ stdout: string; stderr: string; code: number }>((resolve) => {
      execFile(
        'bash',
        ['-c', script],
        { cwd: dir, timeout: 120_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, PC: pc, ADMIN_PASSWORD: password } },
        (err, out, errOut) => resolve({ stdout: out, stderr: errOut, code: err ? (typeof err.code === 'number' ? err.code : 1) : 0 }),
      );
    });
    expect(code, `the walkthrough failed:\n${stderr}\n${stdout}`).toBe(0);

    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(4);
    const [me, ada, refusal, revealed] = lines.map((l) => JSON.parse(l));
    expect(me).toMatchObject({ userName: 'admin', roles: expect.arrayContaining(['superadmin']) });
    // The new user lives in the new organization, not the admin's.
    expect(ada).toMatchObject({ userName: 'ada', roles: ['owner'], organizationId: expect.any(String) });
    expect(ada.organizationId).not.toBe(me.organizationId);
    // The refusal is exactly what the README shows under the command.
    expect(readme).toContain(`# ${lines[2]}\n`);
    expect(refusal).toEqual({ status: 403, error: 'auth.forbidden', details: ['body.scopes: logins:reveal'] });
    expect(JSON.stringify(revealed)).toContain('correct supplier passphrase');
  }, 180_000);
});
