import { describe, expect, it } from 'vitest';
import { RFC6238_SEEDS, RFC6238_VECTORS } from './rfc6238.fixture.js';
import { parseTotpSeed, currentTotpCode as totpCode } from './totp.js';

const SEEDS = RFC6238_SEEDS;

describe('TOTP', () => {
  it.each(RFC6238_VECTORS)('matches RFC 6238 at T=%i (%s, %s)', (seconds, expected, algorithm) => {
    const params = parseTotpSeed(`otpauth://totp/Example:alice?secret=${SEEDS[algorithm]}&algorithm=${algorithm}&digits=8&period=30`);
    expect(params).toMatchObject({ algorithm, digits: 8, period: 30 });
    const { code, period, expiresAt } = totpCode(params!, new Date(seconds * 1000));
    expect(code).toBe(expected);
    expect(period).toBe(30);
    expect(expiresAt.getTime()).toBe((Math.floor(seconds / 30) + 1) * 30_000);
  });

  it('reads plain base32 (any case, spaces) with SHA1, 6 digits, 30 s', () => {
    const spaced = SEEDS.SHA1.toLowerCase().replace(/(.{4})/g, '$1 ');
    const params = parseTotpSeed(spaced)!;
    expect(params).toMatchObject({ algorithm: 'SHA1', digits: 6, period: 30 });
    expect(totpCode(params, new Date(59_000)).code).toBe('287082');
  });

  it('honours the period of a URI', () => {
    const params = parseTotpSeed(`otpauth://totp/x?secret=${SEEDS.SHA1}&period=60&digits=6`)!;
    const { period, expiresAt } = totpCode(params, new Date(61_000));
    expect(period).toBe(60);
    expect(expiresAt.toISOString()).toBe(new Date(120_000).toISOString());
  });

  it('refuses what is not a TOTP seed', () => {
    for (const bad of [
      'not base32!',
      'abc',
      `otpauth://hotp/x?secret=${SEEDS.SHA1}&counter=1`,
      'otpauth://totp/x',
      'otpauth://totp/x?secret=@@',
    ]) {
      expect(parseTotpSeed(bad), bad).toBeUndefined();
    }
  });
});
