import { Secret } from 'otpauth';
import { describe, expect, it } from 'vitest';
import { parseTotpSeed, currentTotpCode as totpCode } from './totp.js';

const b32 = (ascii: string) => Secret.fromLatin1(ascii).base32;
const SEEDS = {
  SHA1: b32('12345678901234567890'),
  SHA256: b32('12345678901234567890123456789012'),
  SHA512: b32('1234567890123456789012345678901234567890123456789012345678901234'),
};

// RFC 6238, appendix B.
const VECTORS: [number, string, keyof typeof SEEDS][] = [
  [59, '94287082', 'SHA1'],
  [59, '46119246', 'SHA256'],
  [59, '90693936', 'SHA512'],
  [1111111109, '07081804', 'SHA1'],
  [1111111109, '68084774', 'SHA256'],
  [1111111109, '25091201', 'SHA512'],
  [1111111111, '14050471', 'SHA1'],
  [1234567890, '89005924', 'SHA1'],
  [1234567890, '91819424', 'SHA256'],
  [1234567890, '93441116', 'SHA512'],
  [2000000000, '69279037', 'SHA1'],
  [20000000000, '65353130', 'SHA1'],
  [20000000000, '77737706', 'SHA256'],
  [20000000000, '47863826', 'SHA512'],
];

describe('TOTP', () => {
  it.each(VECTORS)('matches RFC 6238 at T=%i (%s, %s)', (seconds, expected, algorithm) => {
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
