import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { SCOPES } from '../../src/identity/permissions.js';
import { ADMIN, buildTestApp, PG_URL } from '../helpers/test-app.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'portcullis-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The CLI works on the database named by its environment; the file-backed SQLite run exercises it end to end.
describe.skipIf(PG_URL)('portcullis keys rotate-master', () => {
  it('re-wraps the data keys so that only the new master key is needed afterwards', async () => {
    const file = join(dir, 'rotate.db');
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const before = await buildTestApp({}, {}, { sqliteFile: file, masterKey: oldKey });
    const key = (await before.createApiKey(before.adminId, [...SCOPES])).secret;
    const login = await before.req('POST', '/logins/upsert', {
      apiKey: key,
      json: {
        name: 'Rotate',
        authenticationUrl: 'https://r.test/',
        homeUrl: 'https://r.test/',
        loginConfiguration: { username: 'rot', password: 'kept-secret' },
      },
    });
    expect(login.status).toBe(200);
    await before.close();

    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'keys', 'rotate-master'], {
      env: {
        ...process.env,
        PORTCULLIS_DATABASE_URL: `sqlite:${file}`,
        PORTCULLIS_DATA_DIR: dir,
        PORTCULLIS_MASTER_KEY: newKey.toString('base64'),
        PORTCULLIS_PREVIOUS_MASTER_KEY: oldKey.toString('base64'),
        PORTCULLIS_REDIS_URL: '',
        PORTCULLIS_LOG_LEVEL: 'silent',
      },
    });
    const report = JSON.parse(stdout.trim());
    expect(report).toMatchObject({ ok: true, unreadable: 0 });
    expect(report.columns['vault_data_keys.wrapped_key']).toMatchObject({ resealed: 1 });
    expect(report.columns['signing_keys.private_jwk_sealed']).toMatchObject({ resealed: 1 });

    const after = await buildTestApp({}, {}, { sqliteFile: file, masterKey: newKey });
    const revealed = await after.req('POST', `/logins/${login.body.id}/reveal`, { apiKey: key });
    expect(revealed.body).toEqual({ password: 'kept-secret', proxyPassword: null });
    // the token signing key was re-sealed too: sign-in still works with only the new master key
    const signIn = await after.req('POST', '/v1/auth/login', { json: { username: ADMIN.userName, password: ADMIN.password } });
    expect(signIn.status).toBe(200);
    expect((await after.req('GET', '/v1/auth/user', { token: signIn.body.token })).status).toBe(200);
    await after.close();
  }, 120_000);
});
