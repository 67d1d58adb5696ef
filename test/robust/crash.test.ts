/**
 * Crash: `kill -9` the server (SQLite file) in the middle of a stream of user creations and password
 * changes, restart it on the same data: every acknowledged write is there and whole.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
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
    const key = (await json(`${url}/v1/api-keys`, 'POST', { name: 'crash' }, { authorization: `Bearer ${login.body.token}` })).body
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
    const workers = [...[0, 1, 2, 3].map(creator), ...changers.map(changer)];
    await sleep(budget(1500, 5000) + Math.random() * 1000);
    const before = acked.length;
    process.kill(server.pid, 'SIGKILL');
    stop = true;
    await Promise.allSettled(workers);
    await server.kill('SIGKILL');
    expect(before).toBeGreaterThan(5);

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
