import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { loadConfig } from './load.js';

const dir = mkdtempSync(join(tmpdir(), 'portcullis-prodcfg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KEY = randomBytes(32).toString('hex');
const production = (env: Record<string, string> = {}) =>
  loadConfig({
    NODE_ENV: 'production',
    PORTCULLIS_DATA_DIR: dir,
    PORTCULLIS_MASTER_KEY: KEY,
    PORTCULLIS_PUBLIC_URL: 'https://id.example.test',
    ...env,
  });
const refusal = (env: Record<string, string>): string => {
  try {
    production(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).not.toContain('\n');
    return (e as Error).message;
  }
  throw new Error('not refused');
};

/** @see issue 15 — the production rules; the real CLI refusing each is test/integration/production.test.ts. */
describe('NODE_ENV=production', () => {
  it('starts with a master key and an https public URL', () => {
    expect(production().env).toBe('production');
    const file = join(dir, 'given.key');
    writeFileSync(file, randomBytes(32).toString('base64'));
    expect(production({ PORTCULLIS_MASTER_KEY: '', PORTCULLIS_MASTER_KEY_FILE: file }).masterKeyFile).toBe(file);
  });

  it('refuses http:// public URLs, the default and loopback included, unless allowed', () => {
    expect(refusal({ PORTCULLIS_PUBLIC_URL: '' })).toMatch(/^PORTCULLIS_PUBLIC_URL must be https:\/\/, got http:\/\/localhost:8080;/);
    expect(refusal({ PORTCULLIS_PUBLIC_URL: 'http://127.0.0.1:8080' })).toMatch(/^PORTCULLIS_PUBLIC_URL /);
    expect(refusal({ PORTCULLIS_PUBLIC_URL: 'http://[::1]' })).toMatch(/^PORTCULLIS_PUBLIC_URL /);
    expect(production({ PORTCULLIS_PUBLIC_URL: 'http://localhost', PORTCULLIS_ALLOW_INSECURE_PUBLIC_URL: 'true' }).publicUrl).toBe(
      'http://localhost',
    );
    expect(production({ PORTCULLIS_PUBLIC_URL: 'https://localhost:8443' }).publicUrl).toBe('https://localhost:8443');
  });

  it('refuses placeholder keys in the key file, and accepts one as the previous key (rotating away from it)', () => {
    const file = join(dir, 'zero.key');
    writeFileSync(file, `${'00'.repeat(32)}\n`);
    expect(refusal({ PORTCULLIS_MASTER_KEY: '', PORTCULLIS_MASTER_KEY_FILE: file })).toMatch(
      /^PORTCULLIS_MASTER_KEY_FILE .* holds a placeholder/,
    );
    expect(refusal({ PORTCULLIS_MASTER_KEY: '0123456789abcdef'.repeat(4) })).toMatch(/^PORTCULLIS_MASTER_KEY is a placeholder/);
    expect(production({ PORTCULLIS_PREVIOUS_MASTER_KEY: 'a'.repeat(64) }).previousMasterKey).toBeDefined();
    const bad = join(dir, 'bad.key');
    writeFileSync(bad, 'not a key');
    expect(refusal({ PORTCULLIS_MASTER_KEY: '', PORTCULLIS_MASTER_KEY_FILE: bad })).toBe(
      `PORTCULLIS_MASTER_KEY_FILE ${bad} must be 32 bytes as base64 or hex`,
    );
  });

  it("refuses argon2 parameters below OWASP's weakest configuration (7168 KiB × 5)", () => {
    for (const [m, t] of [
      ['64', '1'],
      ['19456', '1'],
      ['7168', '4'],
      ['4096', '20'],
    ] as const) {
      expect(refusal({ PORTCULLIS_ARGON2_MEMORY_KIB: m, PORTCULLIS_ARGON2_TIME_COST: t }), `${m}×${t}`).toMatch(
        /^PORTCULLIS_ARGON2_MEMORY_KIB=/,
      );
    }
    for (const [m, t] of [
      ['47104', '1'],
      ['19456', '2'],
      ['12288', '3'],
      ['9216', '4'],
      ['7168', '5'],
    ] as const) {
      expect(production({ PORTCULLIS_ARGON2_MEMORY_KIB: m, PORTCULLIS_ARGON2_TIME_COST: t }).argon2.memoryKiB).toBe(Number(m));
    }
  });

  it('changes nothing outside production', () => {
    expect(loadConfig({ PORTCULLIS_ARGON2_MEMORY_KIB: '64', PORTCULLIS_DATABASE_URL: 'sqlite::memory:' }).env).toBe('development');
    expect(loadConfig({ NODE_ENV: 'test', PORTCULLIS_IDP_ALLOW_PRIVATE_HOSTS: 'true' }).idpAllowPrivateHosts).toBe(true);
    expect(loadConfig({ NODE_ENV: 'test', PORTCULLIS_WEBHOOKS_ALLOW_PRIVATE_HOSTS: 'true' }).webhooks.allowPrivateHosts).toBe(true);
  });
});
