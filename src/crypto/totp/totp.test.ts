import { describe, expect, it } from 'vitest';
import { generateTotpSecret, hotpCode, matchTotp, otpauthUri, qrCodeDataUrl, timeStep, totpCode } from './totp.js';

const b32 = (ascii: string): string => {
  // RFC 4648 base32 of an ASCII seed, without padding.
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const byte of Buffer.from(ascii, 'ascii')) bits += byte.toString(2).padStart(8, '0');
  let out = '';
  for (let i = 0; i < bits.length; i += 5) out += alphabet[Number.parseInt(bits.slice(i, i + 5).padEnd(5, '0'), 2)];
  return out;
};

describe('HOTP (RFC 4226 Appendix D)', () => {
  const key = Buffer.from('12345678901234567890', 'ascii');
  const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
  it.each(expected.map((code, counter) => [counter, code]))('counter %i → %s', (counter, code) => {
    expect(hotpCode(key, counter)).toBe(code);
  });
});

describe('TOTP (RFC 6238 Appendix B)', () => {
  const seeds = {
    SHA1: b32('12345678901234567890'),
    SHA256: b32('12345678901234567890123456789012'),
    SHA512: b32('1234567890123456789012345678901234567890123456789012345678901234'),
  };
  const table: [number, string, keyof typeof seeds][] = [
    [59, '94287082', 'SHA1'],
    [59, '46119246', 'SHA256'],
    [59, '90693936', 'SHA512'],
    [1111111109, '07081804', 'SHA1'],
    [1111111109, '68084774', 'SHA256'],
    [1111111109, '25091201', 'SHA512'],
    [1111111111, '14050471', 'SHA1'],
    [1111111111, '67062674', 'SHA256'],
    [1111111111, '99943326', 'SHA512'],
    [1234567890, '89005924', 'SHA1'],
    [1234567890, '91819424', 'SHA256'],
    [1234567890, '93441116', 'SHA512'],
    [2000000000, '69279037', 'SHA1'],
    [2000000000, '90698825', 'SHA256'],
    [2000000000, '38618901', 'SHA512'],
    [20000000000, '65353130', 'SHA1'],
    [20000000000, '77737706', 'SHA256'],
    [20000000000, '47863826', 'SHA512'],
  ];
  it.each(table)('T=%i → %s (%s)', (seconds, code, algorithm) => {
    expect(totpCode(seeds[algorithm], seconds * 1000, { algorithm, digits: 8 })).toBe(code);
  });
});

describe('matchTotp', () => {
  const secret = generateTotpSecret();
  const now = 1_700_000_015_000;

  it('makes 160-bit base32 secrets', () => {
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(generateTotpSecret()).not.toBe(secret);
  });

  it('accepts the current step and one step of drift each way, answering the step', () => {
    const step = timeStep(now);
    expect(matchTotp(secret, totpCode(secret, now), now)).toBe(step);
    expect(matchTotp(secret, totpCode(secret, now - 30_000), now)).toBe(step - 1);
    expect(matchTotp(secret, totpCode(secret, now + 30_000), now)).toBe(step + 1);
  });

  it('refuses two steps away, malformed codes and other secrets', () => {
    expect(matchTotp(secret, totpCode(secret, now - 60_000), now)).toBeUndefined();
    expect(matchTotp(secret, totpCode(secret, now + 60_000), now)).toBeUndefined();
    expect(matchTotp(secret, 'abcdef', now)).toBeUndefined();
    expect(matchTotp(secret, '1234567', now)).toBeUndefined();
    expect(matchTotp(generateTotpSecret(), totpCode(secret, now), now)).toBeUndefined();
  });

  it('builds an otpauth URI and a QR data URL', async () => {
    const uri = otpauthUri(secret, 'Portcullis', 'ann@example.test');
    expect(uri).toMatch(/^otpauth:\/\/totp\/Portcullis:ann%40example\.test\?/);
    expect(uri).toContain(`secret=${secret}`);
    expect(uri).toContain('algorithm=SHA1');
    expect(uri).toContain('digits=6');
    expect(uri).toContain('period=30');
    expect(await qrCodeDataUrl(uri)).toMatch(/^data:image\/png;base64,/);
  });
});
