import { describe, expect, it } from 'vitest';
import { maskAuditData } from './mask.js';

describe('maskAuditData', () => {
  it('redacts secret-looking keys and keeps field names', () => {
    expect(maskAuditData({ password: 'x', changedFields: ['password'], name: 'n' })).toEqual({
      password: '[redacted]',
      changedFields: ['password'],
      name: 'n',
    });
  });

  it('copies a __proto__ key as data, never as the copy’s prototype (issue 14)', () => {
    const masked = maskAuditData(JSON.parse('{"__proto__":{"isSuperadmin":true},"a":1}')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(masked)).toBe(Object.prototype);
    expect(masked.isSuperadmin).toBeUndefined();
    expect(Object.hasOwn(masked, '__proto__')).toBe(true);
    expect(JSON.stringify(masked)).toBe('{"__proto__":{"isSuperadmin":true},"a":1}');
  });
});
