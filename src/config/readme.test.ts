import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './load.js';
import { OPTION_DOCS } from './schema.js';

describe('configuration', () => {
  it('documents every option in the README', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const o of OPTION_DOCS) expect(readme, o.env).toContain(`\`${o.env}\``);
  });

  it('refuses bad values with one line naming the variable', () => {
    const cases: Record<string, string> = {
      PORTCULLIS_PORT: 'eighty',
      PORTCULLIS_DATABASE_URL: 'mysql://x',
      PORTCULLIS_REDIS_URL: 'http://x',
      PORTCULLIS_MASTER_KEY: 'short',
      PORTCULLIS_LOG_LEVEL: 'loud',
      PORTCULLIS_PUBLIC_URL: 'not a url',
      PORTCULLIS_REVOKE_SESSIONS_ON_PASSWORD_SET: 'maybe',
    };
    for (const [name, value] of Object.entries(cases)) {
      let error: unknown;
      try {
        loadConfig({ [name]: value });
      } catch (e) {
        error = e;
      }
      expect(error, name).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain(name);
      expect((error as Error).message).not.toContain('\n');
    }
    expect(() => loadConfig({ NODE_ENV: 'production', PORTCULLIS_IDP_ALLOW_PRIVATE_HOSTS: 'true' })).toThrow(ConfigError);
  });

  it('has OWASP argon2 defaults and freezes the result', () => {
    const c = loadConfig({});
    expect(c.argon2).toMatchObject({ memoryKiB: 19456, timeCost: 2, parallelism: 1 });
    expect(Object.isFrozen(c)).toBe(true);
    expect(JSON.stringify(loadConfig({ PORTCULLIS_MASTER_KEY: 'a'.repeat(64) }))).not.toContain('a'.repeat(64));
  });
});
