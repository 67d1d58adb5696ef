import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { loadConfig } from './load.js';
import { configOptions, documentedDefault } from './schema.js';

/** The rows of the README's configuration table: variable → [default, meaning]. */
function readmeTable(): Map<string, [string, string]> {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.split('\n## Configuration\n')[1]?.split('\n## ')[0] ?? '';
  const rows = new Map<string, [string, string]>();
  for (const line of section.split('\n')) {
    const cells = /^\| `([A-Z0-9_]+)` \| (.*) \| (.*) \|$/.exec(line);
    if (cells) rows.set(cells[1] as string, [cells[2] as string, cells[3] as string]);
  }
  return rows;
}

describe('configuration', () => {
  it('documents every option of the schema in the README, with its default and description, and nothing else', () => {
    const rows = readmeTable();
    const options = configOptions();
    for (const o of options) {
      expect(rows.get(o.schema.env), o.schema.env).toEqual([documentedDefault(o), o.schema.description]);
    }
    expect([...rows.keys()].sort()).toEqual(options.map((o) => o.schema.env).sort());
  });

  it('gives every option a description and a default the schema accepts', () => {
    for (const o of configOptions()) {
      expect(o.schema.description, o.schema.env).toMatch(/\S/);
      expect(o.schema.default !== undefined || o.schema.docDefault !== undefined, o.schema.env).toBe(true);
    }
    expect(() => loadConfig({})).not.toThrow();
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
      PORTCULLIS_TRUST_PROXY: 'true',
      PORTCULLIS_METRICS_TOKEN: 'too-short',
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
    expect(() => loadConfig({ NODE_ENV: 'production', PORTCULLIS_WEBHOOKS_ALLOW_PRIVATE_HOSTS: 'true' })).toThrow(ConfigError);
  });

  /** @see issue 14 finding 17 */
  it('reads PORTCULLIS_TRUST_PROXY as a list of proxies, off by default, and refuses forms clients could steer', () => {
    expect(loadConfig({}).trustProxy).toEqual([]);
    expect(loadConfig({ PORTCULLIS_TRUST_PROXY: 'off' }).trustProxy).toEqual([]);
    expect(loadConfig({ PORTCULLIS_TRUST_PROXY: ' 10.0.0.0/8, LOOPBACK ,192.0.2.10, fd00::/8,::1 ' }).trustProxy).toEqual([
      '10.0.0.0/8',
      'loopback',
      '192.0.2.10',
      'fd00::/8',
      '::1',
    ]);
    for (const bad of [
      'true',
      'yes',
      '1',
      '2',
      '0.0.0.0/0',
      '::/0',
      '10.0.0.0/33',
      'fd00::/129',
      'proxy.internal',
      '10.0.0.0/8/1',
      '10.0.0.0/x',
    ]) {
      expect(() => loadConfig({ PORTCULLIS_TRUST_PROXY: bad }), bad).toThrow(/PORTCULLIS_TRUST_PROXY/);
    }
  });

  it('has OWASP argon2 defaults and freezes the result', () => {
    const c = loadConfig({});
    expect(c.argon2).toMatchObject({ memoryKiB: 19456, timeCost: 2, parallelism: 1 });
    expect(Object.isFrozen(c)).toBe(true);
    expect(JSON.stringify(loadConfig({ PORTCULLIS_MASTER_KEY: 'a'.repeat(64) }))).not.toContain('a'.repeat(64));
    expect(JSON.stringify(loadConfig({ PORTCULLIS_METRICS_TOKEN: 'm'.repeat(40) }))).not.toContain('m'.repeat(40));
    expect(() => loadConfig({ PORTCULLIS_METRICS_TOKEN: `${'m'.repeat(40)} x` })).toThrow(/PORTCULLIS_METRICS_TOKEN/);
  });
});
