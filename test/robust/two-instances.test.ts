/**
 * Two instances behind the same PostgreSQL + Redis: logout on one is honoured by the other within
 * one second, and login throttling counts failures from both.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, PG_URL, REDIS_URL, unique } from '../helpers/test-app.js';
import { buildAppOn, createPgSchema, dropPgSchema, json, type RobustApp, randomKey, sleep, waitHealthy } from './helpers.js';

const withPgAndRedis = PG_URL && REDIS_URL ? describe : describe.skip;

withPgAndRedis('two instances', () => {
  let schema: string;
  let a: RobustApp;
  let b: RobustApp;

  beforeAll(async () => {
    schema = await createPgSchema(PG_URL as string);
    const shared = {
      pgUrl: PG_URL as string,
      pgSchema: schema,
      redisUrl: REDIS_URL as string,
      redisPrefix: `${unique('ti')}:`,
      masterKey: randomKey(),
    };
    a = await buildAppOn(shared);
    b = await buildAppOn(shared);
    await Promise.all([waitHealthy(a.url), waitHealthy(b.url)]);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    if (schema) await dropPgSchema(PG_URL as string, schema);
  });

  it('refuses a token on B within 1 s of its logout on A', async () => {
    const login = await json(`${a.url}/v1/auth/login`, 'POST', { username: ADMIN.userName, password: ADMIN.password });
    const auth = { authorization: `Bearer ${login.body.token}` };
    expect((await json(`${b.url}/v1/auth/user`, 'GET', undefined, auth)).status).toBe(200); // B has it cached now
    expect((await json(`${a.url}/v1/auth/logout`, 'POST', {}, auth)).status).toBe(200);
    const t0 = Date.now();
    let status = 200;
    while (Date.now() - t0 < 1000) {
      status = (await json(`${b.url}/v1/auth/user`, 'GET', undefined, auth)).status;
      if (status === 401) break;
      await sleep(20);
    }
    expect(status).toBe(401);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('throttles an account on failures counted across both instances', async () => {
    const username = unique('nobody');
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const app = i % 2 === 0 ? a : b;
      statuses.push((await json(`${app.url}/v1/auth/login`, 'POST', { username, password: 'wrong-password' })).status);
    }
    // 5 free failures, the 6th starts a back-off, the 7th (on the other instance) is refused with 429.
    expect(statuses.slice(0, 6)).toEqual([401, 401, 401, 401, 401, 401]);
    expect(statuses[6]).toBe(429);
  });
});
