/**
 * Load: a mixed workload (logins, token checks, API-key checks, refreshes, user creations, vault
 * upserts with sealed secrets) against
 * a server in its own process for a bounded time. No 5xx, and memory stays flat.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refreshChain } from '../../bench/lib/load.js';
import { ADMIN } from '../helpers/test-app.js';
import { budget, type ChildServer, json, sleep, startChildServer } from './helpers.js';

const SECONDS = budget(9, 30);

describe('mixed load', () => {
  let dir: string;
  let server: ChildServer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-load-'));
    server = await startChildServer({ PORTCULLIS_DATA_DIR: dir });
  });
  afterAll(async () => {
    await server?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it(`serves ${SECONDS} s of mixed traffic with no 5xx and flat memory`, async () => {
    const login = await json(`${server.url}/v1/auth/login`, 'POST', { username: ADMIN.userName, password: ADMIN.password });
    expect(login.status).toBe(200);
    const key = await json(`${server.url}/v1/api-keys`, 'POST', { name: 'load' }, { authorization: `Bearer ${login.body.token}` });
    expect(key.status).toBe(201);
    const refreshPool: string[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await json(`${server.url}/v1/auth/login`, 'POST', { username: ADMIN.userName, password: ADMIN.password });
      refreshPool.push(r.body.refreshToken);
    }
    let created = 0;
    let upserted = 0;
    const run = (opts: autocannon.Options) => autocannon({ duration: SECONDS, timeout: 20, ...opts });
    const samples: number[] = [];
    const sampler = setInterval(() => samples.push(server.rssMb()), 250);
    const results = await Promise.all([
      run({
        url: `${server.url}/v1/auth/login`,
        connections: 4,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: ADMIN.userName, password: ADMIN.password }),
      }),
      run({ url: `${server.url}/v1/auth/user`, connections: 8, headers: { authorization: `Bearer ${login.body.token}` } }),
      run({ url: `${server.url}/v1/auth/user`, connections: 4, headers: { 'x-api-key': key.body.clientSecret } }),
      run({
        url: `${server.url}/v1/auth/refresh`,
        connections: 4,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        setupClient: refreshChain(refreshPool),
      }),
      run({
        url: server.url,
        connections: 2,
        requests: [
          {
            method: 'POST',
            path: '/v1/users',
            headers: { 'content-type': 'application/json', 'x-api-key': key.body.clientSecret },
            setupRequest: (req) => ({
              ...req,
              body: JSON.stringify({ userName: `load-${process.pid}-${created++}`, password: `pw-load-${created}-x9!k` }),
            }),
          },
        ],
      }),
      run({
        url: server.url,
        connections: 2,
        requests: [
          {
            method: 'POST',
            path: '/logins/upsert',
            headers: { 'content-type': 'application/json', 'x-api-key': key.body.clientSecret },
            setupRequest: (req) => {
              // Every third upsert updates an earlier login (same username): creates and updates mixed.
              const n = upserted++;
              const username = `load-login-${n % 3 === 2 ? n - 2 : n}`;
              return {
                ...req,
                body: JSON.stringify({
                  name: `load ${username}`,
                  authenticationUrl: `https://site-${n % 20}.example.test/login`,
                  homeUrl: `https://site-${n % 20}.example.test/`,
                  loginConfiguration: {
                    username,
                    password: `vault-${n}`,
                    twoFactorAuthConfiguration: { method: 'TOTP', totpSecretKey: 'JBSWY3DPEHPK3PXP' },
                  },
                }),
              };
            },
          },
        ],
      }),
    ]);
    clearInterval(sampler);
    const fiveXx = results.reduce((s, r) => s + r['5xx'], 0);
    const errors = results.reduce((s, r) => s + r.errors + r.timeouts, 0);
    const ok = results.map((r) => r['2xx']);
    const third = Math.max(1, Math.floor(samples.length / 3));
    const early = Math.max(...samples.slice(third, 2 * third));
    const late = Math.max(...samples.slice(2 * third));
    console.log(
      `load: 2xx per workload ${ok.join('/')}, 5xx ${fiveXx}, errors ${errors}, RSS middle third ${early.toFixed(0)} MB, last third ${late.toFixed(0)} MB`,
    );
    expect(fiveXx).toBe(0);
    expect(errors).toBe(0);
    for (const n of ok) expect(n).toBeGreaterThan(0);
    expect(late - early, 'RSS grew in the last third of the run').toBeLessThan(40);
    await sleep(100);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});
