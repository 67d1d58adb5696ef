import { describe, expect, it } from 'vitest';
import { createMemoryState } from '../state/index.js';
import { accountKey, createLoginThrottle, identifierKey } from './throttle.js';

/** @see issue 14 finding 11 — failures count under the typed identifier and the resolved account. */
describe('login throttle', () => {
  const make = () => createLoginThrottle(createMemoryState(), { perIpPerMinute: 0, freeFailures: 2, maxBackoffSeconds: 60 });

  it('counts a failure under every key and answers the longest back-off started', async () => {
    const throttle = make();
    expect(await throttle.fail([identifierKey('alice'), accountKey('u1')])).toBeUndefined();
    expect(await throttle.fail([identifierKey('alice@example.test'), accountKey('u1')])).toBeUndefined();
    // The account's third failure starts its back-off; the identifiers have one failure each.
    expect(await throttle.fail([identifierKey('Alice@Example.test'), accountKey('u1')])).toBe(1);
    await expect(throttle.check([identifierKey('alice'), accountKey('u1')])).rejects.toMatchObject({ code: 'rate.limited' });
    await expect(throttle.check(identifierKey('alice'))).resolves.toBeUndefined();
    await throttle.succeed([identifierKey('alice'), accountKey('u1')]);
    await expect(throttle.check([identifierKey('alice'), accountKey('u1')])).resolves.toBeUndefined();
  });

  it('keeps typed identifiers apart from internal counters', () => {
    expect(identifierKey(' MFA:u1 ')).toBe('id:mfa:u1');
    expect(identifierKey('account:u1')).not.toBe(accountKey('u1'));
  });
});
