import { describe, expect, it } from 'vitest';
import { generateRecoveryCodes, hashRecoveryCode, matchRecoveryCode, normalizeRecoveryCode } from './recovery-codes.js';

describe('recovery codes', () => {
  it('makes ten distinct grouped codes of 80 bits', () => {
    const codes = generateRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const c of codes) expect(c).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$/);
  });

  it('matches typed variants of a code and nothing else', () => {
    const codes = generateRecoveryCodes(3);
    const stored = codes.map((c, id) => ({ id, codeHash: hashRecoveryCode(c) }));
    const second = codes[1]!;
    expect(matchRecoveryCode(stored, second)?.id).toBe(1);
    expect(matchRecoveryCode(stored, ` ${second.toLowerCase().replace(/-/g, ' ')} `)?.id).toBe(1);
    expect(matchRecoveryCode(stored, generateRecoveryCodes(1)[0]!)).toBeUndefined();
    expect(matchRecoveryCode(stored, 'short')).toBeUndefined();
    expect(normalizeRecoveryCode('abcd-efgh-ijkl-mnop')).toBe('ABCDEFGH1JK1MN0P');
  });
});
