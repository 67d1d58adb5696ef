import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = mkdtempSync(join(tmpdir(), 'portcullis-prod-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const KEY = randomBytes(32).toString('base64');
let dirs = 0;

/** A production environment that starts: a master key, an https public URL, its own data directory. */
function productionEnv(extra: Record<string, string> = {}): Record<string, string> {
  const dataDir = join(root, `d${dirs++}`);
  return {
    ...(process.env as Record<string, string>),
    NODE_ENV: 'production',
    PORTCULLIS_DATA_DIR: dataDir,
    PORTCULLIS_DATABASE_URL: '',
    PORTCULLIS_REDIS_URL: '',
    PORTCULLIS_MASTER_KEY: KEY,
    PORTCULLIS_PUBLIC_URL: 'https://id.example.test',
    PORTCULLIS_LOG_LEVEL: 'warn',
    ...extra,
  };
}

/** Runs the real CLI; answers its exit code and its stderr. */
async function cli(command: 'serve' | 'migrate', env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', command], { env, timeout: 60_000 });
    return { code: 0, stderr };
  } catch (e) {
    const err = e as { code: number; stderr: string };
    return { code: err.code, stderr: err.stderr };
  }
}

/** Each CLI start transpiles the sources (tsx): a few seconds on a loaded machine. The tests run one at a time so as not to starve parallel files. */
const SLOW = 120_000;

const refused = (message: string) => ({ code: 1, stderr: `portcullis: configuration error: ${message} (NODE_ENV=production)\n` });

/** @see issue 15 — NODE_ENV=production refuses development shortcuts at boot, with one line naming the variable. */
describe('NODE_ENV=production (the real CLI)', { timeout: SLOW }, () => {
  it('refuses to serve without a configured master key, and generates none', async () => {
    const env = productionEnv({ PORTCULLIS_MASTER_KEY: '' });
    expect(await cli('serve', env)).toEqual(
      refused('no master key: set PORTCULLIS_MASTER_KEY or PORTCULLIS_MASTER_KEY_FILE, none is generated in production'),
    );
    expect(existsSync(join(env.PORTCULLIS_DATA_DIR as string, 'master.key'))).toBe(false);
  });

  it('names the key file an earlier development start generated, without using it', async () => {
    const env = productionEnv({ PORTCULLIS_MASTER_KEY: '' });
    const file = join(env.PORTCULLIS_DATA_DIR as string, 'master.key');
    mkdirSync(env.PORTCULLIS_DATA_DIR as string, { recursive: true, mode: 0o700 });
    writeFileSync(file, `${KEY}\n`, { mode: 0o600 });
    expect(await cli('migrate', env)).toEqual(
      refused(
        `no master key: set PORTCULLIS_MASTER_KEY or PORTCULLIS_MASTER_KEY_FILE, none is generated in production; to keep the key generated earlier, set PORTCULLIS_MASTER_KEY_FILE=${file}`,
      ),
    );
    expect((await cli('migrate', { ...env, PORTCULLIS_MASTER_KEY_FILE: file })).code).toBe(0);
  });

  it('refuses a PORTCULLIS_MASTER_KEY_FILE that does not exist', async () => {
    const missing = join(root, 'nowhere.key');
    expect(await cli('migrate', productionEnv({ PORTCULLIS_MASTER_KEY: '', PORTCULLIS_MASTER_KEY_FILE: missing }))).toEqual(
      refused(`PORTCULLIS_MASTER_KEY_FILE points at ${missing}, which does not exist`),
    );
  });

  it('refuses a placeholder master key without quoting it', async () => {
    const placeholder = 'ab'.repeat(32);
    const result = await cli('migrate', productionEnv({ PORTCULLIS_MASTER_KEY: placeholder }));
    expect(result).toEqual(refused('PORTCULLIS_MASTER_KEY is a placeholder, not a random key: generate one with openssl rand -base64 32'));
    expect(result.stderr).not.toContain(placeholder);
  });

  it('refuses an http:// public URL unless PORTCULLIS_ALLOW_INSECURE_PUBLIC_URL=true', async () => {
    expect(await cli('serve', productionEnv({ PORTCULLIS_PUBLIC_URL: 'http://id.example.test/' }))).toEqual(
      refused(
        'PORTCULLIS_PUBLIC_URL must be https://, got http://id.example.test; set PORTCULLIS_ALLOW_INSECURE_PUBLIC_URL=true to serve it over http',
      ),
    );
    const allowed = productionEnv({ PORTCULLIS_PUBLIC_URL: 'http://id.internal', PORTCULLIS_ALLOW_INSECURE_PUBLIC_URL: 'true' });
    expect((await cli('migrate', allowed)).code).toBe(0);
  });

  it("refuses the test suite's argon2 parameters", async () => {
    expect(await cli('serve', productionEnv({ PORTCULLIS_ARGON2_MEMORY_KIB: '64', PORTCULLIS_ARGON2_TIME_COST: '1' }))).toEqual(
      refused(
        "PORTCULLIS_ARGON2_MEMORY_KIB=64 with PORTCULLIS_ARGON2_TIME_COST=1 is below OWASP's argon2id minimum (7168 KiB, and memory × iterations at least 35840; the default is 19456 × 2)",
      ),
    );
  });

  it('refuses private identity provider hosts and an in-memory database', async () => {
    expect(await cli('migrate', productionEnv({ PORTCULLIS_IDP_ALLOW_PRIVATE_HOSTS: 'true' }))).toEqual({
      code: 1,
      stderr: 'portcullis: configuration error: PORTCULLIS_IDP_ALLOW_PRIVATE_HOSTS cannot be true when NODE_ENV=production\n',
    });
    expect(await cli('serve', productionEnv({ PORTCULLIS_DATABASE_URL: 'sqlite::memory:' }))).toEqual(
      refused('PORTCULLIS_DATABASE_URL=sqlite::memory: forgets every account when the process ends'),
    );
  });

  it('serves when configured for production', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'serve'], {
      env: productionEnv({ PORTCULLIS_PORT: '0', PORTCULLIS_HOST: '127.0.0.1', PORTCULLIS_LOG_LEVEL: 'info' }),
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk) => {
          out += String(chunk);
          const found = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
          if (found) resolve(found[1] as string);
        });
        child.on('exit', (code) => reject(new Error(`exited with ${code}`)));
      });
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
