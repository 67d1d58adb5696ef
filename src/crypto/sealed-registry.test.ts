import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Executor } from '../storage/index.js';
import { createMasterKeyring, type MasterKeyring } from './envelope.js';
import { createSealedRegistry, type DataKeySealedColumn, type MasterSealedColumn, type SealedRows } from './sealed-registry.js';
import { Secret } from './secret.js';

const oldKey = new Secret(randomBytes(32));
const newKey = new Secret(randomBytes(32));
const labelOf = (key: string) => `test:${key}`;
const db = {} as Executor;
const now = new Date('2030-01-01T00:00:00Z');

/** An in-memory column, keyed like a table, with a hook that runs before each compare-and-set. */
function memoryColumn(rows: Map<string, string>, beforeSwap?: (key: string) => void) {
  const writes: string[] = [];
  const source: SealedRows = {
    async page(after, limit) {
      return [...rows.entries()]
        .filter(([k]) => after === undefined || k > after)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .slice(0, limit)
        .map(([key, sealed]) => ({ key, sealed }));
    },
    async read(key) {
      return rows.get(key);
    },
    async swap(key, previous, next) {
      beforeSwap?.(key);
      if (rows.get(key) !== previous) return false;
      rows.set(key, next);
      writes.push(key);
      return true;
    },
  };
  const column: MasterSealedColumn = {
    owner: 'test',
    kind: 'master_key',
    table: 'things',
    column: 'secret_sealed',
    holds: 'test secrets',
    labelOf,
    rows: () => source,
  };
  return { column, writes };
}

function sealAll(keyring: MasterKeyring, n: number): Map<string, string> {
  const rows = new Map<string, string>();
  for (let i = 0; i < n; i++) {
    const key = `k${String(i).padStart(5, '0')}`;
    rows.set(key, keyring.wrap(`plain-${key}`, labelOf(key)));
  }
  return rows;
}

const plain = (keyring: MasterKeyring, rows: Map<string, string>) => [...rows].map(([k, v]) => keyring.unwrap(v, labelOf(k)).toString());

describe('MasterKeyring.reseal', () => {
  it('re-seals what only the previous key opens, leaves what the current key opens, and throws otherwise', () => {
    const before = createMasterKeyring(oldKey);
    const during = createMasterKeyring(newKey, oldKey);
    const after = createMasterKeyring(newKey);
    const sealed = before.wrap('s3cret', 'l');
    const resealed = during.reseal(sealed, 'l');
    expect(resealed).toBeTypeOf('string');
    expect(after.unwrap(resealed as string, 'l').toString()).toBe('s3cret');
    expect(() => after.unwrap(resealed as string, 'other')).toThrow();
    expect(during.reseal(resealed as string, 'l')).toBeUndefined();
    expect(() => after.reseal(sealed, 'l')).toThrow();
    expect(() => during.reseal(sealed, 'other')).toThrow();
  });
});

describe('createSealedRegistry', () => {
  it('re-seals every row of every column across pages, and a second pass changes nothing', async () => {
    const rows = sealAll(createMasterKeyring(oldKey), 1203);
    const expected = plain(createMasterKeyring(oldKey), rows);
    const { column, writes } = memoryColumn(rows);
    const registry = createSealedRegistry([[column]]);
    const keyring = createMasterKeyring(newKey, oldKey);

    const first = await registry.reseal({ db, keyring, now });
    expect(first).toMatchObject({ ok: true, resealed: 1203, alreadyCurrent: 0, unreadable: 0, masterKeyId: keyring.currentId });
    expect(plain(createMasterKeyring(newKey), rows)).toEqual(expected);

    const snapshot = new Map(rows);
    writes.length = 0;
    const second = await registry.reseal({ db, keyring, now });
    expect(second).toMatchObject({ ok: true, resealed: 0, alreadyCurrent: 1203 });
    expect(writes).toEqual([]);
    expect(rows).toEqual(snapshot);
  });

  it('leaves a value neither key opens untouched and reports its row key, not its value', async () => {
    const rows = sealAll(createMasterKeyring(oldKey), 3);
    const stranger = createMasterKeyring(new Secret(randomBytes(32))).wrap('other', labelOf('k00001'));
    rows.set('k00001', stranger);
    const { column } = memoryColumn(rows);
    const report = await createSealedRegistry([[column]]).reseal({ db, keyring: createMasterKeyring(newKey, oldKey), now });
    expect(report).toMatchObject({ ok: false, resealed: 2, unreadable: 1 });
    expect(report.columns['things.secret_sealed']?.failedKeys).toEqual(['k00001']);
    expect(rows.get('k00001')).toBe(stranger);
    expect(JSON.stringify(report)).not.toContain(stranger);
  });

  it('never overwrites a value written meanwhile: it reads the row again', async () => {
    const rows = sealAll(createMasterKeyring(oldKey), 2);
    const during = createMasterKeyring(newKey, oldKey);
    let raced = false;
    // A running instance (already on the new key) replaces k00000's secret between the pass's read and write.
    const { column } = memoryColumn(rows, (key) => {
      if (key === 'k00000' && !raced) {
        raced = true;
        rows.set(key, during.wrap('replaced', labelOf(key)));
      }
    });
    const report = await createSealedRegistry([[column]]).reseal({ db, keyring: during, now });
    expect(report).toMatchObject({ ok: true, resealed: 1, alreadyCurrent: 1 });
    expect(
      createMasterKeyring(newKey)
        .unwrap(rows.get('k00000') as string, labelOf('k00000'))
        .toString(),
    ).toBe('replaced');
  });

  it('reports a row that keeps changing as contended instead of looping', async () => {
    const old = createMasterKeyring(oldKey);
    const rows = sealAll(old, 1);
    // An instance still on the old key keeps writing the row.
    const { column } = memoryColumn(rows, (key) => rows.set(key, old.wrap('again', labelOf(key))));
    const report = await createSealedRegistry([[column]]).reseal({ db, keyring: createMasterKeyring(newKey, oldKey), now });
    expect(report).toMatchObject({ ok: false, contended: 1, resealed: 0 });
  });

  it('refuses a column registered twice, a data-key column without its master-sealed key, and non-identifiers', () => {
    const { column } = memoryColumn(new Map());
    const covered: DataKeySealedColumn = {
      owner: 'test',
      kind: 'data_key',
      table: 'items',
      column: 'value_sealed',
      holds: 'x',
      wrappedBy: 'things.secret_sealed',
    };
    expect(() => createSealedRegistry([[column], [column]])).toThrow(/registered twice/);
    expect(() => createSealedRegistry([[covered]])).toThrow(/not registered as sealed under the master key/);
    expect(() => createSealedRegistry([[covered, { ...covered, column: 'other_sealed', wrappedBy: 'items.value_sealed' }]])).toThrow(
      /not registered as sealed under the master key/,
    );
    expect(() => createSealedRegistry([[{ ...column, table: 'Things; drop' }]])).toThrow(/not a database identifier/);
    const registry = createSealedRegistry([[column, covered]]);
    expect(registry.masterSealed).toEqual([column]);
    const text = registry.describe();
    expect(text).toMatch(/Re-sealed[^\n]*:\n {2}things\.secret_sealed +test secrets \(test\)/);
    expect(text).toMatch(/Covered by[^\n]*:\n {2}items\.value_sealed/);
  });
});
