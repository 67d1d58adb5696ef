import { Secret, TOTP } from 'otpauth';

const STEP_MS = 30_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * An authenticator app for `secret` (base32): each code is of a later time step than the one
 * before (the server accepts every step once), using the drift window (previous, current, next)
 * and waiting for the clock when three codes in one step were not enough.
 */
export function authenticator(secret: string) {
  let last = Number.NEGATIVE_INFINITY;
  return {
    secret,
    async next(): Promise<string> {
      for (;;) {
        const now = Date.now();
        const current = Math.floor(now / STEP_MS);
        const earliest = now % STEP_MS > 25_000 ? current : current - 1;
        const step = Math.max(last + 1, earliest);
        if (step <= current + 1) {
          last = step;
          return TOTP.generate({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30, timestamp: step * STEP_MS });
        }
        await sleep((step - 1) * STEP_MS - now + 100);
      }
    },
  };
}
