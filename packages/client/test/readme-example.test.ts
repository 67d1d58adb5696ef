import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/test-app.js';

// The README's TypeScript client example is packages/client/examples/quickstart.mts (typechecked by
// `npm run typecheck`): the README must show it verbatim, and it must run against a live server.

const root = fileURLToPath(new URL('../../..', import.meta.url));
const example = readFileSync(new URL('../examples/quickstart.mts', import.meta.url), 'utf8');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'portcullis-client-example-'));
let t: TestApp;
const password = 'the quickstart admin passphrase';

beforeAll(async () => {
  t = await buildTestApp();
  // The example signs in as `admin`, the bootstrap user of a real first start.
  await t.createUser({ userName: 'admin', password, roles: ['owner'] });
});
afterAll(async () => {
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the README TypeScript client example', () => {
  it('is packages/client/examples/quickstart.mts, verbatim', () => {
    expect(readme).toContain(`\`\`\`ts\n${example}\`\`\``);
  });

  it('runs against a live server', async () => {
    // The example imports the published name; here it runs against this checkout's sources.
    const file = join(dir, 'quickstart.mts');
    const source = join(root, 'packages/client/src/index.ts');
    writeFileSync(file, example.replace("from '@portcullis/client'", `from ${JSON.stringify(source)}`));
    const run = () =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          ['--import', 'tsx', file],
          { cwd: root, timeout: 120_000, env: { ...process.env, PC: t.url, ADMIN_PASSWORD: password } },
          (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }),
        );
      });
    const first = await run();
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^signed in as admin in organization \S+\nvault login \S+: password stored true\n$/);
    const id = /vault login (\S+):/.exec(first.stdout)![1];
    const second = await run();
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain(`vault login ${id}:`);
  }, 180_000);
});
