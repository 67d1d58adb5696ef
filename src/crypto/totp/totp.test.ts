import { describe, expect, it } from 'vitest';
import { RFC6238_SEEDS, RFC6238_VECTORS } from './rfc6238.fixture.js';
import { generateTotpSecret, hotpCode, matchTotp, otpauthUri, qrCodeDataUrl, timeStep, totpCode } from './totp.js';

describe('HOTP (RFC 4226 Appendix D)', () => {
  const key = Buffer.from('12345678901234567890', 'ascii');
  const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
  it.each(expected.map((code, counter) => [counter, code]))('counter %i → %s', (counter, code) => {
    expect(hotpCode(key, counter)).toBe(code);
  });
});

describe('TOTP (RFC 6238 Appendix B)', () => {
  it.each(RFC6238_VECTORS)('T=%i → %s (%s)', (seconds, code, algorithm) => {
    expect(totpCode(RFC6238_SEEDS[algorithm], seconds * 1000, { algorithm, digits: 8 })).toBe(code);
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
