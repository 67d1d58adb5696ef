import { describe, expect, it } from 'vitest';
import { findForbiddenKey, findKey, isForbiddenKey, mentionsForbiddenKey, ownProps } from './safe-keys.js';

describe('forbidden keys', () => {
  it('knows the three names in any case, and nothing longer', () => {
    for (const k of ['__proto__', 'constructor', 'prototype', '__PROTO__', 'Constructor', 'proTOtype'])
      expect(isForbiddenKey(k)).toBe(true);
    for (const k of ['proto', '_proto_', 'constructors', 'xprototype', '', 'name']) expect(isForbiddenKey(k)).toBe(false);
  });

  it('finds them as words in paths, whatever separates them', () => {
    for (const p of [
      '__proto__.x',
      'name.__proto__',
      'constructor.prototype.x',
      'emails[type eq "work"].__proto__.x',
      'emails[__proto__ eq "x"]',
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:__proto__',
      '__proto__:x',
      'a".__proto__."b',
      'x-Constructor',
      'members[value eq "prototype"]',
      'a,b,PROTOTYPE',
      'é__proto__',
    ])
      expect(mentionsForbiddenKey(p), p).toBe(true);
    for (const p of ['name.givenName', 'emails[type eq "work"].value', 'constructorName', 'x__proto__y', 'protoTypes', '$constructor'])
      expect(mentionsForbiddenKey(p), p).toBe(false);
  });

  it('locates a key at any depth of a value', () => {
    expect(findKey({ a: [1, { b: { 'c.prototype': 1 } }] }, mentionsForbiddenKey)).toBe('a[1].b.c.prototype');
    expect(findKey([{ ok: 1 }, { Constructor: 1 }], isForbiddenKey)).toBe('[1].Constructor');
    expect(findKey({ a: 'constructor', b: ['prototype'] }, isForbiddenKey)).toBeUndefined();
    expect(findKey('__proto__', isForbiddenKey)).toBeUndefined();
  });

  it('walks deeply nested values without overflowing the stack', () => {
    const deep = JSON.parse(`${'{"a":['.repeat(50_000)}{"prototype":1}${']}'.repeat(50_000)}`);
    const where = findForbiddenKey(deep, '"prototype"');
    expect(where?.endsWith('.a[0].prototype')).toBe(true);
  });

  it('skips the walk only when the raw text cannot hold such a key', () => {
    const parsed = JSON.parse('{"\\u0063onstructor":1}');
    expect(findForbiddenKey(parsed, '{"\\u0063onstructor":1}')).toBe('constructor');
    expect(findForbiddenKey({ constructor: 1 }, '{}')).toBeUndefined();
    expect(findForbiddenKey({ constructor: 1 })).toBe('constructor');
  });

  it('copies option bags so that nothing is inherited', () => {
    const bag = ownProps(
      Object.assign(Object.create({ bootstrap: true }), { roles: ['member'] }) as { bootstrap?: boolean; roles?: string[] },
    );
    expect(bag.bootstrap).toBeUndefined();
    expect(bag.roles).toEqual(['member']);
    expect(Object.getPrototypeOf(bag)).toBeNull();
    expect(ownProps<{ a?: number }>(undefined).a).toBeUndefined();
    expect(ownProps<{ toString?: unknown }>({}).toString).toBeUndefined();
  });
});
