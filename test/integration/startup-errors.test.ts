import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

/** @see issue 16 — start-up failures name the variable an operator must change, on one line. */
const run = promisify(execFile);
const root = mkdtempSync(join(tmpdir(), 'portcullis-start-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;

async function serve(extra: Record<string, string>): Promise<{ code: number; stderr: string }> {
  const env = {
    ...(process.env as Record<string, string>),
    NODE_ENV: 'development',
    PORTCULLIS_DATA_DIR: join(root, `d${dirs++}`),
    PORTCULLIS_DATABASE_URL: '',
    PORTCULLIS_REDIS_URL: '',
    PORTCULLIS_LOG_LEVEL: 'silent',
    PORTCULLIS_HOST: '127.0.0.1',
    ...extra,
  };
  try {
    await run(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'serve'], { env, timeout: 60_000 });
    return { code: 0, stderr: '' };
  } catch (e) {
    const err = e as { code: number; stderr: string };
    return { code: err.code, stderr: err.stderr };
  }
}

describe('start-up errors (the real CLI)', { timeout: 120_000 }, () => {
  it('a port in use names PORTCULLIS_PORT', async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const res = await serve({ PORTCULLIS_PORT: String(port), PORTCULLIS_ADMIN_PASSWORD: 'a long enough admin passphrase' });
      expect(res.code).toBe(1);
      expect(res.stderr).toBe(
        `portcullis: configuration error: PORTCULLIS_PORT ${port} on PORTCULLIS_HOST 127.0.0.1 is already in use (EADDRINUSE)\n`,
      );
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('an admin password the policy refuses names PORTCULLIS_ADMIN_PASSWORD, not a request field', async () => {
    const res = await serve({ PORTCULLIS_PORT: '0', PORTCULLIS_ADMIN_PASSWORD: 'short' });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^portcullis: configuration error: PORTCULLIS_ADMIN_PASSWORD does not meet the password policy \(.+\)\n$/);
    expect(res.stderr).not.toContain('body.password');
    expect(res.stderr).not.toContain(' short');
  });
});
