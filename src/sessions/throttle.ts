import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, type RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../errors/index.js';
import type { SharedState } from '../state/index.js';

export interface ThrottleOptions {
  /** Attempts per minute from one address; 0 turns the ceiling off. */
  perIpPerMinute: number;
  /** Consecutive failures per account before back-off starts. */
  freeFailures: number;
  /** Longest back-off, seconds. */
  maxBackoffSeconds: number;
}

/**
 * rate-limiter-flexible's login-protection pattern: a per-address ceiling, and per account
 * (keyed by the submitted identifier, so unknown names are throttled alike) consecutive failures
 * with exponential back-off from 1 s doubling to a cap. Never a permanent lock. Counters live in
 * Redis when configured, so every instance agrees.
 */
export function createLoginThrottle(state: SharedState, options: ThrottleOptions, prefix = 'login') {
  const make = (keyPrefix: string, points: number, duration: number): RateLimiterAbstract =>
    state.redis
      ? new RateLimiterRedis({ storeClient: state.redis, keyPrefix, points, duration, useRedisPackage: false })
      : new RateLimiterMemory({ keyPrefix, points, duration });
  const perIp = options.perIpPerMinute > 0 ? make(`${prefix}_ip`, options.perIpPerMinute, 60) : undefined;
  // Failure counter: forgotten a day after the last failure, or at once on success.
  const failures = make(`${prefix}_fail`, 1_000_000, 86_400);
  // Block marker: a key "blocked" for the back-off period.
  const blocks = make(`${prefix}_block`, 1, 1);

  const accountKey = (identifier: string): string => identifier.trim().toLowerCase().slice(0, 320);
  const limited = (ms: number): AppError =>
    new AppError('rate.limited', { headers: { 'retry-after': String(Math.max(1, Math.ceil(ms / 1000))) }, detail: 'throttled' });

  return {
    /** Throws 429 (with Retry-After) while the address or the account is throttled. */
    async check(identifier: string, ip: string): Promise<void> {
      if (perIp) {
        try {
          await perIp.consume(ip);
        } catch (res) {
          if (res instanceof Error) throw res;
          throw limited((res as RateLimiterRes).msBeforeNext);
        }
      }
      const blocked = await blocks.get(accountKey(identifier));
      if (blocked && blocked.consumedPoints > 1 && blocked.msBeforeNext > 0) throw limited(blocked.msBeforeNext);
    },
    /** Counts a failure; answers the back-off started (seconds), if any. */
    async fail(identifier: string): Promise<number | undefined> {
      const key = accountKey(identifier);
      const res = await failures.penalty(key, 1);
      const over = res.consumedPoints - options.freeFailures;
      if (over <= 0) return undefined;
      const seconds = Math.min(2 ** (over - 1), options.maxBackoffSeconds);
      await blocks.block(key, seconds);
      return seconds;
    },
    async succeed(identifier: string): Promise<void> {
      const key = accountKey(identifier);
      await Promise.all([failures.delete(key), blocks.delete(key)]);
    },
  };
}
export type LoginThrottle = ReturnType<typeof createLoginThrottle>;
