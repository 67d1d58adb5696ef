import fc from 'fast-check';
import { type ScimPatchOperation, scimPatch } from 'scim-patch';
import { afterEach, describe, expect, it } from 'vitest';
import { pollutionWatch } from '../../../test/helpers/pollution.js';
import { AppError } from '../../errors/index.js';
import { assertSafeAttributeParams, assertSafeKeys, assertSafePatch, assertSafePath } from './scim.paths.js';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const resource = () => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENTERPRISE],
  id: 'u1',
  userName: 'ada',
  name: { givenName: 'Ada', familyName: 'Lovelace' },
  emails: [{ type: 'work', value: 'ada@example.com', primary: true }],
  [ENTERPRISE]: { department: 'Engines', manager: { value: 'm1' } },
});

const watch = pollutionWatch();
afterEach(() => {
  expect(watch.check()).toEqual([]);
});

const code = (fn: () => void): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof AppError ? err.code : String(err);
  }
};

/** Path text from the pieces scim-patch and the filter grammar give meaning to, forbidden names in any case. */
const word = fc.oneof(
  fc
    .constantFrom('__proto__', 'constructor', 'prototype')
    .chain((w) =>
      fc
        .array(fc.boolean(), { minLength: w.length, maxLength: w.length })
        .map((up) => [...w].map((c, i) => (up[i] ? c.toUpperCase() : c)).join('')),
    ),
  fc.constantFrom('name', 'emails', 'type', 'value', 'givenName', 'x', ENTERPRISE, 'urn:a:b', 'toString', 'bootstrap'),
);
const glue = fc.constantFrom('.', ':', '[', ']', '"', ' eq ', ' pr', ' and ', '\\"', '(', ')', ' ', '', '-', '$');
const filterText = fc.oneof(
  fc.constant('type eq "work"'),
  word.map((w) => `${w} eq "x"`),
  word.map((w) => `${w} pr`),
  word.map((w) => `type eq "${w}"`),
);
const segment = fc.oneof(
  word,
  fc.tuple(word, filterText).map(([w, f]) => `${w}[${f}]`),
);
/** Well-formed paths (optional schema prefix, segments, value filters) and arbitrary text from the same pieces. */
const pathText = fc.oneof(
  fc
    .tuple(
      fc.option(fc.constantFrom(`${ENTERPRISE}:`, 'urn:a:b:', '__proto__:', 'Constructor:'), { nil: '' }),
      fc.array(segment, { minLength: 1, maxLength: 4 }),
    )
    .map(([prefix, segments]) => prefix + segments.join('.')),
  fc
    .array(fc.oneof({ weight: 2, arbitrary: word }, { weight: 3, arbitrary: glue }), { minLength: 1, maxLength: 12 })
    .map((p) => p.join('')),
);
const value = fc.oneof(
  fc.constant(true),
  fc.constant({ bootstrap: true }),
  fc.constant([{ bootstrap: true }]),
  fc.dictionary(pathText, fc.constant(true), { maxKeys: 2 }),
);
const operation = fc.record({ op: fc.constantFrom('add', 'replace', 'remove'), path: fc.option(pathText, { nil: undefined }), value });
const asOp = (o: { op: string; path: string | undefined; value: unknown }) =>
  (o.path === undefined ? { op: o.op === 'remove' ? 'add' : o.op, value: o.value } : o) as ScimPatchOperation;

describe('SCIM path checks', () => {
  it('refuse the forms that polluted through scim-patch', () => {
    for (const path of [
      '__proto__.bootstrap',
      'constructor.prototype.bootstrap',
      'name.__proto__.bootstrap',
      'emails[type eq "work"].__proto__.bootstrap',
      'emails[__proto__ eq "x"]',
      `${ENTERPRISE}:__proto__`,
      '__proto__:bootstrap',
      'a".__proto__."b',
    ])
      expect(
        code(() => assertSafePath(path)),
        path,
      ).toBe('scim.invalid_path');
    expect(code(() => assertSafeKeys({ name: { 'x.__proto__': 1 } }))).toBe('scim.invalid_path');
    expect(code(() => assertSafePatch([{ path: 'name', value: { 'constructor.prototype.x': 1 } }]))).toBe('scim.invalid_path');
    expect(code(() => assertSafeAttributeParams({ attributes: 'userName,name.__proto__' }))).toBe('scim.invalid_path');
    expect(code(() => assertSafeAttributeParams({ sortBy: 'Prototype' }))).toBe('scim.invalid_path');
  });

  it('let Entra’s paths through', () => {
    for (const path of [
      'emails[type eq "work"].value',
      'name.givenName',
      `${ENTERPRISE}:department`,
      `${ENTERPRISE}:manager`,
      'members[value eq "2819c223-7f76-453a-919d-413861904646"]',
      'addresses[type eq "work"].streetAddress',
    ])
      expect(
        code(() => assertSafePath(path)),
        path,
      ).toBeUndefined();
    expect(
      code(() => assertSafePatch([{ value: { 'name.familyName': 'x', [ENTERPRISE]: { department: 'constructor crew' } } }])),
    ).toBeUndefined();
    expect(code(() => assertSafeAttributeParams({ attributes: 'userName,emails', excludedAttributes: 'members' }))).toBeUndefined();
  });

  it('leave nothing that makes scim-patch pollute a built-in (property)', () => {
    fc.assert(
      fc.property(fc.array(operation, { minLength: 1, maxLength: 3 }), (ops) => {
        const patch = ops.map(asOp);
        if (code(() => assertSafePatch(patch)) !== undefined) return;
        try {
          scimPatch(resource() as never, patch, { mutateDocument: false, treatMissingAsAdd: true });
        } catch {
          // refusals by scim-patch itself are fine; only pollution matters here
        }
        expect(watch.check()).toEqual([]);
      }),
      { numRuns: 3000 },
    );
  });

  it('are what stops that property from failing: unchecked, the same operations pollute', () => {
    let polluted = 0;
    for (const ops of fc.sample(fc.array(operation, { minLength: 1, maxLength: 3 }), { numRuns: 3000, seed: 14 })) {
      try {
        scimPatch(resource() as never, ops.map(asOp), { mutateDocument: false, treatMissingAsAdd: true });
      } catch {
        // as above
      }
      if (watch.check().length > 0) polluted++;
    }
    expect(polluted).toBeGreaterThan(20);
  });
});
