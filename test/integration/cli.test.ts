import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'portcullis-cli-'));
const env = {
  ...process.env,
  PORTCULLIS_DATA_DIR: dir,
  PORTCULLIS_DATABASE_URL: '',
  PORTCULLIS_REDIS_URL: '',
  PORTCULLIS_ARGON2_MEMORY_KIB: '64',
  PORTCULLIS_ARGON2_TIME_COST: '1',
  PORTCULLIS_LOG_LEVEL: 'warn',
};
const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], { env, timeout: 120_000 });

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('portcullis CLI (SQLite in a data dir)', () => {
  it('migrates, bootstraps, and administers organizations, users, keys and passwords', async () => {
    expect((await cli('--version')).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect((await cli('migrate')).stdout).toMatch(/Applied|up to date/);
    expect(statSync(join(dir, 'portcullis.db')).isFile()).toBe(true);

    const org = JSON.parse((await cli('admin', 'create-org', 'cli-org')).stdout);
    expect(org).toMatchObject({ name: 'cli-org', id: expect.any(String) });
    // the first app start generated the master key, readable only by its owner
    expect(statSync(join(dir, 'master.key')).mode & 0o777).toBe(0o600);

    const user = JSON.parse(
      (
        await run(
          process.execPath,
          [
            '--import',
            'tsx',
            'src/cli/index.ts',
            'admin',
            'create-user',
            'cli-user',
            '--org',
            'cli-org',
            '--email',
            'cli@example.test',
            '--role',
            'admin',
          ],
          { env: { ...env, PORTCULLIS_NEW_PASSWORD: 'a sturdy cli passphrase' } },
        )
      ).stdout,
    );
    expect(user).toMatchObject({ userName: 'cli-user' });

    const key = JSON.parse((await cli('admin', 'create-api-key', 'cli-user', 'automation', '--scope', 'users:read')).stdout);
    expect(key.clientSecret).toMatch(/^pcs_/);

    const set = await run(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'admin', 'set-password', 'cli-user', '--must-change'], {
      env: { ...env, PORTCULLIS_NEW_PASSWORD: 'another sturdy passphrase' },
    });
    expect(set.stdout).toContain('Password set');

    const weak = await run(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'admin', 'set-password', 'cli-user'], {
      env: { ...env, PORTCULLIS_NEW_PASSWORD: 'password' },
    }).catch((e) => e);
    expect(weak.code).toBe(1);
    expect(weak.stderr).toContain('password.policy_violation');
    expect(weak.stderr).not.toContain('password\n');

    expect((await cli('keys', 'rotate')).stdout).toMatch(/New signing key/);

    const bad = await run(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'migrate'], {
      env: { ...env, PORTCULLIS_PORT: 'eighty' },
    }).catch((e) => e);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe('portcullis: configuration error: PORTCULLIS_PORT must be a whole number, got "eighty"');
  }, 300_000);

  it('admin create-client registers an OpenID Connect client and prints its secret once', async () => {
    const out = JSON.parse(
      (
        await cli(
          'admin',
          'create-client',
          'Grafana',
          '--redirect-uri',
          'https://grafana.example.test/login/generic_oauth',
          '--first-party',
        )
      ).stdout,
    );
    expect(out).toMatchObject({ clientId: expect.any(String), clientSecret: expect.stringMatching(/^[\w-]{43}$/) });
    const spa = JSON.parse(
      (await cli('admin', 'create-client', 'SPA', '--redirect-uri', 'http://localhost:5173/cb', '--auth-method', 'none')).stdout,
    );
    expect(spa).not.toHaveProperty('clientSecret');
    await expect(cli('admin', 'create-client', 'Broken', '--grant-type', 'authorization_code')).rejects.toBeDefined();
  }, 240_000);
});
