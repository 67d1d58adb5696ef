import { createRateLimit, rateLimited, type SharedState } from '../state/index.js';

export interface ThrottleOptions {
  /** Attempts per minute from one address; 0 turns the ceiling off. */
  perIpPerMinute: number;
  /** Consecutive failures per account before back-off starts. */
  freeFailures: number;
  /** Longest back-off, seconds. */
  maxBackoffSeconds: number;
}

/**
 * The throttle key of an identifier as a person typed it (user name or email, known or not).
 * Why the prefix: typed text must never name another counter (`account:…`, `mfa:…`, `pwchange:…`),
 * or typing `mfa:<someone's id>` as a user name would throttle that person's MFA step.
 */
export const identifierKey = (typed: string): string => `id:${typed.trim().toLowerCase().slice(0, 320)}`;

/** The throttle key of a resolved account: every identifier of one account counts here together. */
export const accountKey = (userId: string): string => `account:${userId}`;

/**
 * rate-limiter-flexible's login-protection pattern: a per-address ceiling, and per key consecutive
 * failures with exponential back-off from 1 s doubling to a cap. Never a permanent lock. Sign-in
 * counts each failure under the typed identifier (so unknown names are throttled alike) and under
 * the account it resolves to (so the user name and the email share one allowance). Counters live in
 * Redis when configured, so every instance agrees.
 */
export function createLoginThrottle(state: SharedState, options: ThrottleOptions, prefix = 'login') {
  const make = (name: string, points: number, windowSeconds: number) => createRateLimit(state, { name, points, windowSeconds });
  const perIp = options.perIpPerMinute > 0 ? make(`${prefix}_ip`, options.perIpPerMinute, 60) : undefined;
  // Failure counter: forgotten a day after the last failure, or at once on success.
  const failures = make(`${prefix}_fail`, 1_000_000, 86_400);
  // Block marker: a key "blocked" for the back-off period.
  const blocks = make(`${prefix}_block`, 1, 1);

  const keysOf = (keys: string | readonly string[]): string[] =>
    [...new Set(typeof keys === 'string' ? [keys] : keys)].map((k) => k.trim().toLowerCase());

  /** Counts a failure under one key; answers the back-off it started (seconds), if any. */
  async function failOne(key: string): Promise<number | undefined> {
    const { consumed } = await failures.penalty(key, 1);
    const over = consumed - options.freeFailures;
    if (over <= 0) return undefined;
    const seconds = Math.min(2 ** (over - 1), options.maxBackoffSeconds);
    await blocks.block(key, seconds);
    return seconds;
  }

  return {
    /**
     * Throws 429 (with Retry-After) while the address or any of the keys is throttled. With `ip`,
     * the attempt also counts toward the address's ceiling (once per call).
     */
    async check(keys: string | readonly string[], ip?: string): Promise<void> {
      if (perIp && ip !== undefined) {
        const attempt = await perIp.consume(ip);
        if (!attempt.allowed) throw rateLimited(attempt.resetMs, 'throttled');
      }
      const states = await Promise.all(keysOf(keys).map((key) => blocks.get(key)));
      let waitMs = 0;
      for (const blocked of states) {
        if (blocked && !blocked.allowed && blocked.resetMs > 0) waitMs = Math.max(waitMs, blocked.resetMs);
      }
      if (waitMs > 0) throw rateLimited(waitMs, 'throttled');
    },
    /** Counts a failure under every key; answers the longest back-off started (seconds), if any. */
    async fail(keys: string | readonly string[]): Promise<number | undefined> {
      let longest: number | undefined;
      for (const seconds of await Promise.all(keysOf(keys).map(failOne))) {
        if (seconds !== undefined) longest = Math.max(longest ?? 0, seconds);
      }
      return longest;
    },
    /** True while any of the keys is in a back-off (HelloID's `isLocked`). */
    async isThrottled(keys: string | readonly string[]): Promise<boolean> {
      const states = await Promise.all(keysOf(keys).map((key) => blocks.get(key)));
      return states.some((b) => b !== undefined && b !== null && !b.allowed && b.resetMs > 0);
    },
    /** Forgets the failures and any back-off of every key. */
    async succeed(keys: string | readonly string[]): Promise<void> {
      await Promise.all(keysOf(keys).flatMap((key) => [failures.reset(key), blocks.reset(key)]));
    },
  };
}
export type LoginThrottle = ReturnType<typeof createLoginThrottle>;
