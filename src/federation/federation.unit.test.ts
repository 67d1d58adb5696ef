import { describe, expect, it } from 'vitest';
import { mapProfile, readPath } from './profile.js';
import { allowedReturnUrl } from './return-url.js';
import { subjectMatches } from './workload/subject-pattern.js';
import { resolveIssuer, WORKLOAD_ISSUERS } from './workload/workload.service.js';

describe('subjectMatches', () => {
  it('matches exactly or by a prefix with a trailing *', () => {
    expect(subjectMatches('repo:acme/api:ref:refs/heads/main', 'repo:acme/api:ref:refs/heads/main')).toBe(true);
    expect(subjectMatches('repo:acme/api:ref:refs/heads/main', 'repo:acme/api:ref:refs/heads/main2')).toBe(false);
    expect(subjectMatches('repo:acme/api:*', 'repo:acme/api:pull_request')).toBe(true);
    expect(subjectMatches('repo:acme/api:*', 'repo:acme/apix:pull_request')).toBe(false);
    expect(subjectMatches('repo:*:main', 'repo:x:main')).toBe(false);
    expect(subjectMatches('repo:*:main', 'repo:*:main')).toBe(true);
    expect(subjectMatches('*', 'anything')).toBe(false);
  });
});

describe('resolveIssuer', () => {
  it('uses the configured issuer, else the preset of GITHUB and GITLAB', () => {
    const base = { allowedAudiences: ['a'], subjectPattern: 'x' };
    expect(resolveIssuer({ ...base, providerType: 'GITHUB', issuerUrl: '' })).toBe(WORKLOAD_ISSUERS.GITHUB);
    expect(resolveIssuer({ ...base, providerType: 'GITLAB', issuerUrl: '' })).toBe('https://gitlab.com');
    expect(resolveIssuer({ ...base, providerType: 'GITLAB', issuerUrl: 'https://gitlab.acme.test/' })).toBe('https://gitlab.acme.test');
    expect(() => resolveIssuer({ ...base, providerType: 'GENERIC', issuerUrl: '' })).toThrow();
  });
});

describe('allowedReturnUrl', () => {
  const pub = 'https://id.acme.test';
  const allowed = [pub, 'https://app.acme.test/console'];
  it('accepts the public URL, allow-listed prefixes and relative paths', () => {
    expect(allowedReturnUrl(undefined, pub, allowed)).toBe('https://id.acme.test/');
    expect(allowedReturnUrl('/dash?x=1', pub, allowed)).toBe('https://id.acme.test/dash?x=1');
    expect(allowedReturnUrl('https://app.acme.test/console', pub, allowed)).toBe('https://app.acme.test/console');
    expect(allowedReturnUrl('https://app.acme.test/console/a', pub, allowed)).toBe('https://app.acme.test/console/a');
  });
  it('refuses everything else', () => {
    for (const bad of [
      'https://evil.test/',
      '//evil.test/',
      '/\\evil.test',
      'https://app.acme.test/console-evil',
      'https://app.acme.test/',
      'https://id.acme.test.evil.test/',
      'http://id.acme.test/',
      'https://user@id.acme.test/',
      'javascript:alert(1)',
    ]) {
      expect(allowedReturnUrl(bad, pub, allowed), bad).toBeUndefined();
    }
  });
});

describe('mapProfile', () => {
  const defaults = { identifier: 'sub', displayName: 'name', email: 'email', phone: 'phone_number', emailVerified: 'email_verified' };

  it('reads claims through own properties only (issue 14)', () => {
    // Stands for a polluted Object.prototype: what a claims object inherits is never a claim.
    const claims = Object.assign(Object.create({ email_verified: true, email: 'victim@example.test' }), { sub: 's1' });
    expect(mapProfile(claims, {}, defaults)).toEqual({
      subject: 's1',
      email: undefined,
      emailVerified: false,
      displayName: undefined,
      givenName: undefined,
      familyName: undefined,
      phone: undefined,
    });
    const mapping = Object.create({ email: 'other' });
    expect(mapProfile({ sub: 's1', email: 'a@b.c', other: 'x@y.z' }, mapping, defaults).email).toBe('a@b.c');
  });

  it('reads nothing through constructor or __proto__ paths', () => {
    expect(readPath({ a: {} }, 'a.constructor.name')).toBeUndefined();
    expect(readPath({ a: {} }, 'a.__proto__')).toBeUndefined();
    expect(readPath(JSON.parse('{"a":{"__proto__":{"b":1}}}'), 'a.__proto__.b')).toBe(1);
    expect(readPath({ a: { b: 'c' } }, 'a.b')).toBe('c');
  });
});
