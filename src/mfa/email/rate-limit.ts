import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, type RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../../errors/index.js';
import type { SharedState } from '../../state/index.js';

/**
 * A fixed-window ceiling (rate-limiter-flexible; Redis when configured, so every instance counts
 * together). `consume` throws 429 with Retry-After once `points` are spent within the window.
 */
export function createRateLimit(state: SharedState, keyPrefix: string, points: number, durationSeconds: number) {
  const limiter: RateLimiterAbstract = state.redis
    ? new RateLimiterRedis({ storeClient: state.redis, keyPrefix, points, duration: durationSeconds, useRedisPackage: false })
    : new RateLimiterMemory({ keyPrefix, points, duration: durationSeconds });
  return {
    async consume(key: string): Promise<void> {
      try {
        await limiter.consume(key.slice(0, 320));
      } catch (res) {
        if (res instanceof Error) throw res;
        const seconds = Math.max(1, Math.ceil((res as RateLimiterRes).msBeforeNext / 1000));
        throw new AppError('rate.limited', { headers: { 'retry-after': String(seconds) }, detail: `${keyPrefix} limit` });
      }
    },
  };
}
export type RateLimit = ReturnType<typeof createRateLimit>;
