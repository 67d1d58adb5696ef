import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../errors/index.js';
import type { SharedState } from './shared-state.js';

export interface RateLimitOptions {
  /** Names the counter. Its keys are `rate:<name>:<key>`, under the shared state's Redis prefix. */
  name: string;
  /** Points one key may spend per window. */
  points: number;
  /** Length of the window, seconds; it starts at a key's first point. */
  windowSeconds: number;
}

/** Where one key stands in its window. `allowed` is false once it spent more than its points (or is blocked). */
export interface RateLimitResult {
  allowed: boolean;
  /** Points spent in the window, this call's included. */
  consumed: number;
  /** Points left in the window; 0 once spent. */
  remaining: number;
  /** Milliseconds until the window (or a block) ends. */
  resetMs: number;
  /** `resetMs` as a `Retry-After` value: whole seconds, at least 1. */
  retryAfterSeconds: number;
}

/** A fixed-window counter per key, shared by every instance when the state is Redis. */
export interface RateLimit {
  /** Spends `points` (default 1) and answers where the key stands; being over the limit is a result, not an error. */
  consume(key: string, points?: number): Promise<RateLimitResult>;
  /** Spends one point; throws the 429 `rate.limited` (with `Retry-After`) once the key is over its limit. */
  enforce(key: string): Promise<void>;
  /** Adds `points` without refusing anything: a failure counter. */
  penalty(key: string, points: number): Promise<RateLimitResult>;
  /** Marks the key spent for `seconds` (a back-off). */
  block(key: string, seconds: number): Promise<void>;
  /** Where the key stands, or undefined when nothing is counted for it. */
  get(key: string): Promise<RateLimitResult | undefined>;
  /** Forgets the key. */
  reset(key: string): Promise<void>;
}

/** Keys are bounded so that a long typed identifier cannot make a long Redis key (identifiers are at most 320 characters). */
const MAX_KEY_LENGTH = 400;

/** The 429 every limiter answers: `rate.limited`, `Retry-After` in whole seconds (at least 1); `detail` stays internal. */
export function rateLimited(retryAfterMs: number, detail?: string): AppError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new AppError('rate.limited', { headers: { 'retry-after': String(seconds) }, ...(detail === undefined ? {} : { detail }) });
}

/**
 * A rate limit over the shared state (rate-limiter-flexible): Redis when the state is Redis, so every
 * instance counts together, process memory otherwise. Every limiter of Portcullis is one of these.
 */
export function createRateLimit(state: SharedState, options: RateLimitOptions): RateLimit {
  const { name, points, windowSeconds } = options;
  const keyPrefix = `rate:${name}`;
  const limiter: RateLimiterAbstract = state.redis
    ? new RateLimiterRedis({ storeClient: state.redis, keyPrefix, points, duration: windowSeconds, useRedisPackage: false })
    : new RateLimiterMemory({ keyPrefix, points, duration: windowSeconds });
  const bounded = (key: string): string => key.slice(0, MAX_KEY_LENGTH);
  const result = (res: RateLimiterRes): RateLimitResult => ({
    allowed: res.consumedPoints <= points,
    consumed: res.consumedPoints,
    remaining: res.remainingPoints,
    resetMs: res.msBeforeNext,
    retryAfterSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)),
  });

  async function consume(key: string, spend = 1): Promise<RateLimitResult> {
    try {
      return result(await limiter.consume(bounded(key), spend));
    } catch (res) {
      // rate-limiter-flexible rejects with its result when the key is over; anything else is a store failure.
      if (res instanceof RateLimiterRes) return result(res);
      throw res;
    }
  }

  return {
    consume,
    async enforce(key) {
      const outcome = await consume(key);
      if (!outcome.allowed) throw rateLimited(outcome.resetMs, `${name} limit`);
    },
    async penalty(key, spend) {
      return result(await limiter.penalty(bounded(key), spend));
    },
    async block(key, seconds) {
      await limiter.block(bounded(key), seconds);
    },
    async get(key) {
      const res = await limiter.get(bounded(key));
      return res ? result(res) : undefined;
    },
    async reset(key) {
      await limiter.delete(bounded(key));
    },
  };
}
