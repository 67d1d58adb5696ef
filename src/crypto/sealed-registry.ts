import type { Executor } from '../storage/index.js';
import type { MasterKeyring } from './envelope.js';

/** What a re-sealer works with: the database, the keyring (current and previous key) and the time. */
export interface ResealDeps {
  db: Executor;
  keyring: MasterKeyring;
  now: Date;
}

/** One sealed value and the key of its row (the id its seal label is built from). */
export interface SealedValue {
  key: string;
  sealed: string;
}

/**
 * The owning domain's access to one column's sealed values. Only the owner writes its table, so
 * the owner implements this over its own repo; the registry drives it.
 */
export interface SealedRows {
  /** Non-null values in ascending key order, strictly after `after` (from the start when undefined), at most `limit`. */
  page(after: string | undefined, limit: number): Promise<readonly SealedValue[]>;
  /** The value the row holds now; `undefined` when the row is gone or the value was cleared. */
  read(key: string): Promise<string | undefined>;
  /** Writes `next` only while the row still holds `previous` (compare-and-set); true when it wrote. */
  swap(key: string, previous: string, next: string): Promise<boolean>;
}

interface SealedColumnBase {
  /** The domain that owns (and alone writes) the table. */
  owner: string;
  /** Table and column as named in the database (snake_case), e.g. `user_mfa`, `secret_sealed`. */
  table: string;
  column: string;
  /** What the column holds, in an operator's words (the CLI's help lists it). */
  holds: string;
}

/** A column whose values are sealed directly under the master key: `keys rotate-master` re-seals it. */
export interface MasterSealedColumn extends SealedColumnBase {
  kind: 'master_key';
  /** The seal label (AAD) of the value in the row with this key, from `sealLabel`. */
  labelOf(key: string): string;
  /** The owner's access to the column's values. */
  rows(deps: ResealDeps): SealedRows;
}

/**
 * A column sealed under a data key that is itself sealed under the master key in another
 * registered column: re-sealing that column covers this one, whose values do not change.
 */
export interface DataKeySealedColumn extends SealedColumnBase {
  kind: 'data_key';
  /** `table.column` of the master-sealed column holding the data key. */
  wrappedBy: string;
}

/** One registered column holding sealed data. */
export type SealedColumn = MasterSealedColumn | DataKeySealedColumn;

/** What one column's pass did. Keys are row ids (never values). */
export interface ColumnReport {
  /** Values that opened only under the previous key and are now sealed under the current one. */
  resealed: number;
  /** Values the current key already opened (left as they were). */
  alreadyCurrent: number;
  /** Values that open under neither key (left as they were). */
  unreadable: number;
  /** Values that kept changing under the pass (written meanwhile by a running instance); run again. */
  contended: number;
  /** Row keys of the unreadable and contended values (at most 20). */
  failedKeys: string[];
}

/** What a whole `keys rotate-master` pass did. `ok` is false when a value was left unreadable or contended. */
export interface RotationReport {
  masterKeyId: string;
  ok: boolean;
  resealed: number;
  alreadyCurrent: number;
  unreadable: number;
  contended: number;
  /** By `table.column`, in registry order. */
  columns: Record<string, ColumnReport>;
}

/** Everything sealed under the master key, directly or through a data key, as one list. */
export interface SealedRegistry {
  readonly columns: readonly SealedColumn[];
  /** The columns a rotation re-seals. */
  readonly masterSealed: readonly MasterSealedColumn[];
  /**
   * Re-seals every value of every master-sealed column under the keyring's current key, one row
   * at a time (compare-and-set, so a row written meanwhile is never overwritten with stale data).
   * Safe to run again: values the current key opens are left as they are.
   */
  reseal(deps: ResealDeps): Promise<RotationReport>;
  /** The list, for the CLI's help: what is re-sealed and what is covered by it. */
  describe(): string;
}

const PAGE_SIZE = 500;
const MAX_ATTEMPTS = 3;
const MAX_FAILED_KEYS = 20;
const NAME = /^[a-z][a-z0-9_]*$/;

/** `table.column`, the name a column goes by in reports and help. */
export const columnName = (c: Pick<SealedColumn, 'table' | 'column'>): string => `${c.table}.${c.column}`;

/**
 * Builds the registry from each owning domain's registration. Throws when a column is registered
 * twice, a name is not a database identifier, or a data-key column names a wrapping column that
 * is not registered as sealed under the master key.
 */
export function createSealedRegistry(registrations: readonly (readonly SealedColumn[])[]): SealedRegistry {
  const columns = Object.freeze(registrations.flat());
  const byName = new Map<string, SealedColumn>();
  for (const c of columns) {
    if (!NAME.test(c.table) || !NAME.test(c.column)) throw new Error(`sealed column ${columnName(c)} is not a database identifier`);
    if (byName.has(columnName(c))) throw new Error(`sealed column ${columnName(c)} is registered twice`);
    byName.set(columnName(c), c);
  }
  for (const c of columns) {
    if (c.kind === 'data_key' && byName.get(c.wrappedBy)?.kind !== 'master_key') {
      throw new Error(`sealed column ${columnName(c)} names ${c.wrappedBy}, which is not registered as sealed under the master key`);
    }
  }
  const masterSealed = Object.freeze(columns.filter((c): c is MasterSealedColumn => c.kind === 'master_key'));

  return {
    columns,
    masterSealed,
    async reseal(deps) {
      const report: RotationReport = {
        masterKeyId: deps.keyring.currentId,
        ok: true,
        resealed: 0,
        alreadyCurrent: 0,
        unreadable: 0,
        contended: 0,
        columns: {},
      };
      for (const column of masterSealed) {
        const r = await resealColumn(column, deps);
        report.columns[columnName(column)] = r;
        report.resealed += r.resealed;
        report.alreadyCurrent += r.alreadyCurrent;
        report.unreadable += r.unreadable;
        report.contended += r.contended;
      }
      report.ok = report.unreadable === 0 && report.contended === 0;
      return report;
    },
    describe() {
      const width = Math.max(...columns.map((c) => columnName(c).length));
      const line = (c: SealedColumn) => `  ${columnName(c).padEnd(width)}  ${c.holds} (${c.owner})`;
      const covered = columns.filter((c) => c.kind === 'data_key');
      return [
        'Re-sealed (sealed directly under the master key):',
        ...masterSealed.map(line),
        ...(covered.length
          ? ['Covered by the re-sealed data keys (sealed under a data key; left as they are):', ...covered.map(line)]
          : []),
      ].join('\n');
    },
  };
}

async function resealColumn(column: MasterSealedColumn, deps: ResealDeps): Promise<ColumnReport> {
  const rows = column.rows(deps);
  const r: ColumnReport = { resealed: 0, alreadyCurrent: 0, unreadable: 0, contended: 0, failedKeys: [] };
  const failed = (key: string) => {
    if (r.failedKeys.length < MAX_FAILED_KEYS) r.failedKeys.push(key);
  };
  let after: string | undefined;
  for (;;) {
    const page = await rows.page(after, PAGE_SIZE);
    for (const row of page) {
      let value: string | undefined = row.sealed;
      for (let attempt = 1; value !== undefined; attempt++) {
        let next: string | undefined;
        try {
          next = deps.keyring.reseal(value, column.labelOf(row.key));
        } catch {
          // Why: a value neither key opens is left untouched (nothing is lost) and reported by row key
          // only; the operator fixes the keys and runs again.
          r.unreadable++;
          failed(row.key);
          break;
        }
        if (next === undefined) {
          r.alreadyCurrent++;
          break;
        }
        if (await rows.swap(row.key, value, next)) {
          r.resealed++;
          break;
        }
        // Why: the row changed between the read and the write (a running instance wrote it); look
        // again instead of overwriting the newer value with a re-sealed stale one.
        if (attempt >= MAX_ATTEMPTS) {
          r.contended++;
          failed(row.key);
          break;
        }
        value = await rows.read(row.key);
      }
    }
    const last = page.at(-1);
    if (page.length < PAGE_SIZE || !last) break;
    after = last.key;
  }
  return r;
}
