/**
 * Database faults: a TCP proxy stands between the app and PostgreSQL / Redis (stopping the real
 * servers would disturb everything else on the machine). Cutting it, requests fail fast with 503 and
 * the error body, the process stays up, and it recovers by itself when the proxy comes back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, PG_URL, REDIS_URL, unique } from '../helpers/test-app.js';
import {
  buildAppOn,
  type CuttableProxy,
  createPgSchema,
  dropPgSchema,
  isErrorBody,
  json,
  type RobustApp,
  randomKey,
  sleep,
  startProxy,
  waitHealthy,
} from './helpers.js';

const withPgAndRedis = PG_URL && REDIS_URL ? describe : describe.skip;

function via(url: string, port: number): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(port);
  return u.toString();
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = Date.now();
  const value = await fn();
  return { value, ms: Date.now() - t0 };
}

withPgAndRedis('database and Redis faults', () => {
  let pgProxy: CuttableProxy;
  let redisProxy: CuttableProxy;
  let schema: string;
  let a: RobustApp;
  let token: string;

  beforeAll(async () => {
    const pgTarget = new URL(PG_URL as string);
    const redisTarget = new URL(REDIS_URL as string);
    pgProxy = await startProxy(pgTarget.hostname, Number(pgTarget.port || 5432));
    redisProxy = await startProxy(redisTarget.hostname, Number(redisTarget.port || 6379));
    schema = await createPgSchema(PG_URL as string);
    a = await buildAppOn({
      pgUrl: via(PG_URL as string, pgProxy.port),
      pgSchema: schema,
      redisUrl: via(REDIS_URL as string, redisProxy.port),
      redisPrefix: `${unique('rf')}:`,
      masterKey: randomKey(),
      env: { PORTCULLIS_LOGIN_RATE_PER_IP: '0' },
    });
    await waitHealthy(a.url);
    token = (await json(`${a.url}/v1/auth/login`, 'POST', { username: ADMIN.userName, password: ADMIN.password })).body.token;
  });
  afterAll(async () => {
    await pgProxy?.restore().catch(() => {});
    await redisProxy?.restore().catch(() => {});
    await a?.close();
    await pgProxy?.close();
    await redisProxy?.close();
    if (schema) await dropPgSchema(PG_URL as string, schema);
  });

  it('answers 503 fast while PostgreSQL is unreachable, and recovers', async () => {
    expect((await json(`${a.url}/v1/auth/user`, 'GET', undefined, { authorization: `Bearer ${token}` })).status).toBe(200);
    await pgProxy.cut();
    // The signed-in user's view may still be served from its short cache: 200 or 503, never 500.
    const cached = await json(`${a.url}/v1/auth/user`, 'GET', undefined, { authorization: `Bearer ${token}` });
    expect([200, 503], cached.text).toContain(cached.status);
    const attempts = [
      () => json(`${a.url}/v1/auth/login`, 'POST', { username: ADMIN.userName, password: ADMIN.password }),
      () => json(`${a.url}/readyz`, 'GET'),
      () => json(`${a.url}/v1/users`, 'GET', undefined, { authorization: `Bearer ${token}` }),
    ];
    for (const attempt of attempts) {
      const { value: res, ms } = await timed(attempt);
      expect(res.status, res.text).toBe(503);
      expect(isErrorBody(res.body, 503)).toBe(true);
      expect(res.body.error).toBe('service.unavailable');
      expect(ms, 'not a fast failure').toBeLessThan(6000);
    }
    expect((await json(`${a.url}/healthz`, 'GET')).status).toBe(200);

    await pgProxy.restore();
    const until = Date.now() + 15_000;
    let status = 0;
    while (Date.now() < until) {
      status = (await json(`${a.url}/v1/auth/user`, 'GET', undefined, { authorization: `Bearer ${token}` })).status;
      if (status === 200) break;
      await sleep(250);
    }
    expect(status).toBe(200);
    expect((await json(`${a.url}/v1/auth/login`, 'POST', { username: ADMIN.userName, password: ADMIN.password })).status).toBe(200);
  });

  it('answers 503 (never 500) while Redis is unreachable, and recovers', async () => {
    await redisProxy.cut();
    const { value: res, ms } = await timed(() =>
      json(`${a.url}/v1/auth/login`, 'POST', { username: ADMIN.userName, password: ADMIN.password }),
    );
    expect([200, 503], res.text).toContain(res.status);
    if (res.status === 503) expect(isErrorBody(res.body, 503)).toBe(true);
    expect(ms).toBeLessThan(6000);
    const check = await json(`${a.url}/v1/auth/user`, 'GET', undefined, { authorization: `Bearer ${token}` });
    expect([200, 503]).toContain(check.status);
    expect((await json(`${a.url}/healthz`, 'GET')).status).toBe(200);

    await redisProxy.restore();
    const until = Date.now() + 15_000;
    let status = 0;
    while (Date.now() < until) {
      status = (await json(`${a.url}/v1/auth/login`, 'POST', { username: ADMIN.userName, password: ADMIN.password })).status;
      if (status === 200) break;
      await sleep(250);
    }
    expect(status).toBe(200);
  });
});
