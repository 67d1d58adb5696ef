/**
 * Crash: `kill -9` the server (SQLite file) in the middle of a stream of user creations, password
 * changes and vault upserts (new logins, and updates of one login's password), restart it on the
 * same data: every acknowledged write is there and whole — its sealed secrets still open.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateTotpSecret, totpCode } from '../../src/crypto/totp/totp.js';
import { ADMIN } from '../helpers/test-app.js';
import { budget, type ChildServer, json, sleep, startChildServer } from './helpers.js';

describe('crash during writes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-crash-'));
  let server: ChildServer | undefined;
  afterAll(async () => {
    await server?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every acknowledged write across kill -9', async () => {
    const env = { PORTCULLIS_DATA_DIR: dir };
    server = await startChildServer(env);
    const url = server.url;
    const login = await json(`${url}/v1/auth/login`, 'POST', { username: ADMIN.userName, password: ADMIN.password });
    const bearer = { authorization: `Bearer ${login.body.token}` };
    const key = (await json(`${url}/v1/api-keys`, 'POST', { name: 'crash' }, bearer)).body.clientSecret as string;
    const revealKey = (await json(`${url}/v1/api-keys`, 'POST', { name: 'reveal', scopes: ['logins:read', 'logins:reveal'] }, bearer)).body
      .clientSecret as string;

    // Users whose password is changed in a loop: the acknowledged one, or the one in flight, must work afterwards.
    const changers: Array<{ userName: string; acked: string; pending?: string; token: string }> = [];
    for (let i = 0; i < 2; i++) {
      const userName = `changer-${i}`;
      const password = `first-pass-${i}-q8!z`;
      expect((await json(`${url}/v1/users`, 'POST', { userName, password }, { 'x-api-key': key })).status).toBe(201);
      const l = await json(`${url}/v1/auth/login`, 'POST', { username: userName, password });
      changers.push({ userName, acked: password, token: l.body.token });
    }

    const acked: Array<{ id: string; userName: string; password: string }> = [];
    let stop = false;
    let n = 0;
    const creator = async (w: number): Promise<void> => {
      while (!stop) {
        const userName = `crash-${w}-${n++}`;
        const password = `pw-${userName}-k2!x`;
        try {
          const res = await json(`${url}/v1/users`, 'POST', { userName, password }, { 'x-api-key': key });
          if (res.status === 201) acked.push({ id: res.body.id, userName, password });
        } catch {
          return; // the server is gone
        }
      }
    };
    const changer = async (c: (typeof changers)[number]): Promise<void> => {
      let i = 0;
      while (!stop) {
        const next = `changed-${c.userName}-${i++}-m3!q`;
        c.pending = next;
        try {
          const res = await json(
            `${url}/v1/auth/password`,
            'POST',
            { currentPassword: c.acked, newPassword: next },
            { authorization: `Bearer ${c.token}` },
          );
          if (res.status !== 200) throw new Error(`password change answered ${res.status}: ${res.text}`);
          c.acked = next;
          c.token = res.body.token;
          delete c.pending;
        } catch (err) {
          if (stop) return;
          if ((err as Error).message.startsWith('password change')) throw err;
          return;
        }
      }
    };
    // Vault upserts: new logins with sealed secrets, and one login whose password is updated in a loop.
    const loginBody = (username: string, password: string, totpSecretKey?: string) => ({
      name: `crash ${username}`,
      authenticationUrl: 'https://crash.example.test/login',
      homeUrl: 'https://crash.example.test/',
      loginConfiguration: {
        username,
        password,
        ...(totpSecretKey ? { twoFactorAuthConfiguration: { method: 'TOTP', totpSecretKey } } : {}),
      },
    });
    const stored: Array<{ id: string; username: string; password: string; totp: string }> = [];
    const updated = { id: '', acked: 'vault-first-0', pending: undefined as string | undefined };
    const first = await json(`${url}/logins/upsert`, 'POST', loginBody('updated-login', updated.acked), { 'x-api-key': key });
    expect(first.status).toBe(200);
    updated.id = first.body.id;
    const upserter = async (w: number): Promise<void> => {
      let i = 0;
      while (!stop) {
        const username = `vault-${w}-${i++}`;
        const password = `vault-pw-${username}`;
        const totp = generateTotpSecret();
        try {
          const res = await json(`${url}/logins/upsert`, 'POST', loginBody(username, password, totp), { 'x-api-key': key });
          if (res.status !== 200) throw new Error(`upsert answered ${res.status}: ${res.text}`);
          stored.push({ id: res.body.id, username, password, totp });
        } catch (err) {
          if (stop) return;
          if ((err as Error).message.startsWith('upsert')) throw err;
          return;
        }
      }
    };
    const updater = async (): Promise<void> => {
      let i = 1;
      while (!stop) {
        const next = `vault-next-${i++}`;
        updated.pending = next;
        try {
          const res = await json(`${url}/logins/upsert`, 'POST', loginBody('updated-login', next), { 'x-api-key': key });
          if (res.status !== 200) throw new Error(`update answered ${res.status}: ${res.text}`);
          updated.acked = next;
          updated.pending = undefined;
        } catch (err) {
          if (stop) return;
          if ((err as Error).message.startsWith('update')) throw err;
          return;
        }
      }
    };

    const workers = [...[0, 1, 2, 3].map(creator), ...changers.map(changer), upserter(0), upserter(1), updater()];
    await sleep(budget(1500, 5000) + Math.random() * 1000);
    const before = acked.length;
    process.kill(server.pid, 'SIGKILL');
    stop = true;
    await Promise.allSettled(workers);
    await server.kill('SIGKILL');
    expect(before).toBeGreaterThan(5);
    expect(stored.length).toBeGreaterThan(5);

    server = await startChildServer(env);
    const url2 = server.url;
    for (const u of acked) {
      const res = await json(`${url2}/v1/users/${u.id}`, 'GET', undefined, { 'x-api-key': key });
      expect(res.status, `acknowledged user ${u.userName} lost`).toBe(200);
      expect(res.body.userName).toBe(u.userName);
    }
    // Nothing half-written: a sample of them signs in with the password they were created with.
    for (const u of acked.filter((_, i) => i % Math.ceil(acked.length / 15) === 0)) {
      const res = await json(`${url2}/v1/auth/login`, 'POST', { username: u.userName, password: u.password });
      expect(res.status, `${u.userName} cannot sign in`).toBe(200);
    }
    for (const l of stored) {
      const res = await json(`${url2}/logins/${l.id}`, 'GET', undefined, { 'x-api-key': key });
      expect(res.status, `acknowledged login ${l.username} lost`).toBe(200);
      expect(res.body.loginConfiguration).toMatchObject({
        username: l.username,
        hasPassword: true,
        twoFactorAuthConfiguration: { method: 'TOTP', hasTotpSecret: true },
      });
    }
    // Whole: a sample's sealed secrets still open to what was written (reveal is rate limited: ≤ 10).
    for (const l of stored.filter((_, i) => i % Math.ceil(stored.length / 8) === 0)) {
      const code = await json(`${url2}/logins/${l.id}/totp`, 'POST', undefined, { 'x-api-key': key });
      expect(code.status).toBe(200);
      expect([totpCode(l.totp, Date.now()), totpCode(l.totp, Date.now() - 30_000)]).toContain(code.body.code);
      const revealed = await json(`${url2}/logins/${l.id}/reveal`, 'POST', undefined, { 'x-api-key': revealKey });
      expect(revealed.status).toBe(200);
      expect(revealed.body.password).toBe(l.password);
    }
    const last = await json(`${url2}/logins/${updated.id}/reveal`, 'POST', undefined, { 'x-api-key': revealKey });
    expect(last.status).toBe(200);
    expect([updated.acked, updated.pending], 'the updated login holds neither the acknowledged nor the in-flight password').toContain(
      last.body.password,
    );
    for (const c of changers) {
      const withAcked = await json(`${url2}/v1/auth/login`, 'POST', { username: c.userName, password: c.acked });
      if (withAcked.status === 200) continue;
      const withPending = c.pending
        ? await json(`${url2}/v1/auth/login`, 'POST', { username: c.userName, password: c.pending })
        : withAcked;
      expect(withPending.status, `${c.userName}: neither the acknowledged nor the in-flight password works`).toBe(200);
    }
  });
});
