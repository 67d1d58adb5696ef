import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { backoffMs, signatures } from './webhooks.dispatcher.js';
import { newSecret } from './webhooks.service.js';

describe('backoffMs', () => {
  it('doubles from the base, is capped, and adds at most 10% jitter', () => {
    const none = () => 0;
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(n, 5000, 3_600_000, none))).toEqual([5000, 10_000, 20_000, 40_000, 80_000]);
    expect(backoffMs(30, 5000, 3_600_000, none)).toBe(3_600_000);
    expect(backoffMs(10_000, 5000, 3_600_000, none)).toBe(3_600_000);
    expect(backoffMs(1, 5000, 3_600_000, () => 0.999)).toBeLessThanOrEqual(5500);
  });
  it('retries about 30 times over the default 24 hours', () => {
    let at = 0;
    let attempts = 0;
    while (at < 86_400_000) at += backoffMs(++attempts, 5000, 3_600_000, () => 0);
    expect(attempts).toBeGreaterThan(20);
    expect(attempts).toBeLessThan(40);
  });
});

describe('signatures', () => {
  it('signs under each secret; the standardwebhooks library verifies with either', () => {
    const [current, previous] = [newSecret(), newSecret()];
    const at = new Date();
    const body = JSON.stringify({ type: 'user.created', timestamp: at.toISOString(), data: {} });
    const header = signatures([current, previous], 'evt_1', at, body);
    expect(header.split(' ')).toHaveLength(2);
    const headers = { 'webhook-id': 'evt_1', 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': header };
    for (const s of [current, previous]) expect(new Webhook(s).verify(body, headers)).toMatchObject({ type: 'user.created' });
    expect(() => new Webhook(newSecret()).verify(body, headers)).toThrow();
    expect(() => new Webhook(current).verify(`${body} `, headers)).toThrow();
  });
});
