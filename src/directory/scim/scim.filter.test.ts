import { describe, expect, it } from 'vitest';
import { AppError } from '../../errors/index.js';
import { eqHint, matches, parseFilter } from './scim.filter.js';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const user = {
  id: 'A1',
  externalId: 'Ext-1',
  userName: 'Ada@Example.com',
  displayName: 'Ada Lovelace',
  active: true,
  emails: [
    { type: 'work', value: 'ada@example.com', primary: true },
    { type: 'home', value: 'ada@home.test' },
  ],
  [ENTERPRISE]: { department: 'Engines' },
};
const test = (filter: string) => matches(user, parseFilter(filter)!);

describe('SCIM filters', () => {
  it('evaluates the forms Entra sends', () => {
    expect(test('userName eq "ada@example.com"')).toBe(true); // caseExact false
    expect(test('externalId eq "Ext-1"')).toBe(true);
    expect(test('externalId eq "ext-1"')).toBe(false); // caseExact true
    expect(test('id eq "a1"')).toBe(false);
    expect(test('emails[type eq "work"].value eq "ADA@example.com"')).toBe(true);
    expect(test('emails[type eq "work"].value eq "nobody@example.com"')).toBe(false);
    expect(test('emails.value eq "ada@home.test"')).toBe(true);
    expect(test('displayName eq "ada lovelace"')).toBe(true);
    expect(test(`${ENTERPRISE}:department eq "engines"`)).toBe(true);
    expect(test('userName eq "ada@example.com" and externalId eq "Ext-1"')).toBe(true);
    expect(test('userName eq "ada@example.com" and externalId eq "other"')).toBe(false);
    expect(test('userName eq "x" or displayName sw "Ada"')).toBe(true);
    expect(test('not (active eq false)')).toBe(true);
    expect(test('active eq "True"')).toBe(true);
    expect(test('title pr')).toBe(false);
    expect(test('emails pr')).toBe(true);
  });

  it('finds an indexed eq conjunct for the repo', () => {
    expect(eqHint(parseFilter('userName eq "a" and emails.value eq "b"'), 'userName')).toBe('a');
    expect(eqHint(parseFilter('USERNAME eq "a"'), 'userName')).toBe('a');
    expect(eqHint(parseFilter('userName eq "a" or userName eq "b"'), 'userName')).toBeUndefined();
    expect(eqHint(parseFilter('userName sw "a"'), 'userName')).toBeUndefined();
    expect(eqHint(undefined, 'userName')).toBeUndefined();
  });

  it('refuses a malformed filter as scim.invalid_filter and treats an empty one as none', () => {
    expect(() => parseFilter('userName eq')).toThrow(AppError);
    try {
      parseFilter('userName eq');
    } catch (err) {
      expect((err as AppError).code).toBe('scim.invalid_filter');
    }
    expect(parseFilter('  ')).toBeUndefined();
  });
});
