import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { AppError } from '../errors/index.js';
import { createRateLimit, rateLimited } from './rate-limit.js';
import { createMemoryState, createRedisState, type SharedState } from './shared-state.js';

const REDIS_URL = process.env.PORTCULLIS_REDIS_URL;
const prefix = `rl${Date.now().toString(36)}:`;
const states: SharedState[] = [];
const stores: [string, () => SharedState][] = [['memory', createMemoryState]];
if (REDIS_URL) stores.push(['redis', () => createRedisState(REDIS_URL, prefix)]);
const open = (make: () => SharedState): SharedState => {
  const state = make();
  states.push(state);
  return state;
};
afterAll(async () => {
  for (const s of states) await s.close();
});

describe.each(stores)('createRateLimit (%s)', (_kind, make) => {
  it('answers 429 with Retry-After once the window is spent, per key', async () => {
    const limit = createRateLimit(open(make), { name: 'unit', points: 2, windowSeconds: 60 });
    await limit.enforce('192.0.2.1');
    await limit.enforce('192.0.2.1');
    const err = await limit.enforce('192.0.2.1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('rate.limited');
    expect(Number((err as AppError).headers?.['retry-after'])).toBeGreaterThan(0);
    await limit.enforce('192.0.2.2');
  });

  it('answers a typed result; penalty, block, get and reset act on one key', async () => {
    const limit = createRateLimit(open(make), { name: 'typed', points: 2, windowSeconds: 60 });
    expect(await limit.consume('k')).toMatchObject({ allowed: true, consumed: 1, remaining: 1 });
    expect(await limit.consume('k')).toMatchObject({ allowed: true, consumed: 2, remaining: 0 });
    const over = await limit.consume('k');
    expect(over).toMatchObject({ allowed: false, consumed: 3, remaining: 0 });
    expect(over.resetMs).toBeGreaterThan(0);
    expect(over.retryAfterSeconds).toBe(Math.ceil(over.resetMs / 1000));
    await limit.reset('k');
    expect(await limit.get('k')).toBeUndefined();
    expect(await limit.penalty('k', 2)).toMatchObject({ allowed: true, consumed: 2 });
    await limit.block('k', 30);
    expect(await limit.get('k')).toMatchObject({ allowed: false });
    expect((await limit.get('k'))?.retryAfterSeconds).toBeLessThanOrEqual(30);
  });
});

describe('rateLimited', () => {
  it('rounds Retry-After up to whole seconds, at least 1', () => {
    expect(rateLimited(1).headers?.['retry-after']).toBe('1');
    expect(rateLimited(1001).headers?.['retry-after']).toBe('2');
    expect(rateLimited(0, 'why').detail).toBe('why');
  });
});

describe.runIf(REDIS_URL)('createRateLimit on Redis', () => {
  it("keeps its keys as rate:<name>:<key> under the state's prefix", async () => {
    const limit = createRateLimit(
      open(() => createRedisState(REDIS_URL as string, prefix)),
      {
        name: 'prefixed',
        points: 5,
        windowSeconds: 60,
      },
    );
    await limit.consume('192.0.2.9');
    const raw = new Redis(REDIS_URL as string);
    try {
      expect(await raw.exists(`${prefix}rate:prefixed:192.0.2.9`)).toBe(1);
      expect(await raw.exists('rate:prefixed:192.0.2.9')).toBe(0);
    } finally {
      raw.disconnect();
    }
  });
});
