import { AsyncLocalStorage } from 'node:async_hooks';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { CamelCasePlugin, Kysely, Migrator, PostgresDialect, SqliteDialect, type SqliteStatement, sql, type Transaction } from 'kysely';
import { LRUCache } from 'lru-cache';
import { MIGRATIONS } from './migrations/index.js';
import type { Database } from './tables.js';

export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;
/** A query runner: the database itself or a transaction. Repos accept either. */
export type Executor = Db | Tx;

export interface Storage {
  db: Db;
  /**
   * What repos are built on: the database, or — inside `transaction(fn)` — that transaction. A repo
   * made once at start-up therefore joins whatever transaction its caller runs in.
   */
  executor: Executor;
  /**
   * Runs `fn` in one transaction: every repo built on `executor` that `fn` (and what it calls) uses
   * writes inside it, so the writes of one request commit or roll back together. A nested call joins
   * the outer transaction.
   */
  transaction<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * Runs `fn` once the current transaction has committed (never when it rolls back), or at once
   * outside a transaction: what other readers must only see after the change (cache drops, broadcasts).
   */
  afterCommit(fn: () => Promise<void>): Promise<void>;
  dialect: 'sqlite' | 'postgres';
  migrate(): Promise<string[]>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface StorageOptions {
  /** `postgres://…`, `sqlite:<path>`, `sqlite::memory:` or undefined for `<dataDir>/portcullis.db`. */
  url: string | undefined;
  dataDir: string;
  /** PostgreSQL schema to use (tests give each app its own). */
  pgSchema?: string;
  pgPoolSize?: number;
}

export function createStorage(options: StorageOptions): Storage {
  const url = options.url;
  if (url && /^postgres(ql)?:/.test(url)) {
    // pg is loaded only for PostgreSQL deployments (Kysely creates the pool on first use).
    const pool = async () => {
      const { default: pg } = await import('pg');
      // pg returns int8 as a string; our counters fit in a double.
      pg.types.setTypeParser(20, (v) => Number(v));
      const created = new pg.Pool({
        connectionString: url,
        max: options.pgPoolSize ?? 10,
        connectionTimeoutMillis: 3000,
        // Fail fast when the database is gone, instead of hanging requests.
        query_timeout: 10_000,
        ...(options.pgSchema ? { options: `-c search_path=${options.pgSchema}` } : {}),
      });
      // A dropped idle connection must not crash the process; the pool replaces it.
      created.on('error', () => {});
      return created;
    };
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), plugins: [new CamelCasePlugin()] });
    return wrap(db, 'postgres', options.pgSchema ?? 'public');
  }
  let file: string;
  if (url?.startsWith('sqlite:')) file = url.slice('sqlite:'.length);
  else {
    ensurePrivateDir(options.dataDir);
    file = join(options.dataDir, 'portcullis.db');
  }
  const onDisk = file !== ':memory:' && file !== '';
  if (onDisk) ensurePrivateFile(file);
  const sqlite = new SqliteDatabase(file);
  sqlite.pragma('journal_mode = WAL');
  if (onDisk) for (const extra of [`${file}-wal`, `${file}-shm`]) if (existsSync(extra)) chmodSync(extra, PRIVATE_FILE);
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: withStatementCache(sqlite) }),
    plugins: [new CamelCasePlugin()],
  });
  return wrap(db, 'sqlite');
}

const PRIVATE_DIR = 0o700;
const PRIVATE_FILE = 0o600;

/**
 * Creates a directory readable only by its owner, and tightens an existing one to that.
 * Why: the data directory holds the database and the generated master key; other local users
 * must not read, list or replace them.
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR });
  chmodSync(dir, PRIVATE_DIR);
}

/**
 * Creates the SQLite file 0600 before SQLite opens it, and tightens an existing one. SQLite gives
 * its WAL and shared-memory files the database file's mode, so they follow; any left behind by an
 * earlier version are tightened after the open (see `createStorage`).
 */
function ensurePrivateFile(file: string): void {
  closeSync(openSync(file, 'a', PRIVATE_FILE));
  chmodSync(file, PRIVATE_FILE);
}

/**
 * Kysely's SQLite driver prepares every statement afresh; preparing was a tenth of a login's
 * main-thread time. Statements are kept by SQL text (bounded) and reused: better-sqlite3 runs them
 * synchronously, one at a time, and re-prepares by itself after a schema change. (Kysely's `stream()`,
 * which would hold a statement open across awaits, is not used in this codebase.)
 */
function withStatementCache(sqlite: SqliteDatabase.Database): { close(): void; prepare(sql: string): SqliteStatement } {
  const statements = new LRUCache<string, SqliteStatement>({ max: 500 });
  return {
    close: () => sqlite.close(),
    prepare(text) {
      let stmt = statements.get(text);
      if (!stmt) {
        stmt = sqlite.prepare(text);
        statements.set(text, stmt);
      }
      return stmt;
    },
  };
}

/**
 * `migrationSchema` (PostgreSQL): where Kysely's migration tables live. Why: without it Kysely looks
 * for them in every schema of the database, and another schema's tables (another app, a parallel
 * test run) made it skip creating ours — "relation kysely_migration_lock does not exist".
 */
function wrap(db: Db, dialect: Storage['dialect'], migrationSchema?: string): Storage {
  const ambient = new AsyncLocalStorage<{ tx: Tx; open: boolean; after: (() => Promise<void>)[] }>();
  // Why: work a transaction started in the background (a mail, a cache fill) outlives it; once it has
  // committed, its queries go to the database again instead of to a finished transaction.
  const current = (): Executor => {
    const store = ambient.getStore();
    return store?.open ? store.tx : db;
  };
  const executor = new Proxy(db, {
    get(_target, prop) {
      const real = current();
      const value = Reflect.get(real, prop, real) as unknown;
      // Kysely's classes keep private fields: methods must run on the real object, not the proxy.
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(real) : value;
    },
  }) as Executor;
  return {
    db,
    executor,
    async transaction<T>(fn: () => Promise<T>): Promise<T> {
      if (ambient.getStore()?.open) return fn();
      const store = { tx: undefined as unknown as Tx, open: true, after: [] as (() => Promise<void>)[] };
      const result = await db.transaction().execute(async (tx) => {
        store.tx = tx;
        try {
          return await ambient.run(store, fn);
        } finally {
          store.open = false;
        }
      });
      for (const after of store.after) await after();
      return result;
    },
    async afterCommit(fn) {
      const store = ambient.getStore();
      if (store?.open) store.after.push(fn);
      else await fn();
    },
    dialect,
    async migrate() {
      const migrator = new Migrator({
        db,
        provider: { getMigrations: async () => MIGRATIONS },
        allowUnorderedMigrations: true,
        ...(migrationSchema ? { migrationTableSchema: migrationSchema } : {}),
      });
      const { error, results } = await migrator.migrateToLatest();
      if (error) throw error instanceof Error ? error : new Error(String(error));
      return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
    },
    async ping() {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}

/**
 * A unique constraint refused a write. `constraint` names it: PostgreSQL's constraint or index name
 * (`users_email_key`), or SQLite's `table.column` list (`users.email`). Repos throw it; services
 * decide what it means (which request field conflicts).
 */
export class UniqueViolation extends Error {
  override name = 'UniqueViolation';
  constructor(
    readonly constraint: string,
    options?: { cause?: unknown },
  ) {
    super(`unique constraint ${constraint}`, options);
  }
}

/** A driver's unique-constraint error as a `UniqueViolation`; any other error as it was. */
export function uniqueViolationOf(err: unknown): unknown {
  if (!isUniqueViolation(err)) return err;
  const e = err as { constraint?: string; message?: string };
  const constraint = e.constraint ?? /UNIQUE constraint failed: (.*)$/.exec(e.message ?? '')?.[1] ?? 'unknown';
  return new UniqueViolation(constraint, { cause: err });
}

/** Runs a write; a unique-constraint violation leaves it as a `UniqueViolation`, anything else as it was. */
export async function uniquely<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    throw uniqueViolationOf(err);
  }
}

/** True when `err` is a unique-constraint violation on either dialect. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string } | undefined;
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** Current time as stored: ISO-8601 UTC. */
export const isoNow = (now: Date): string => now.toISOString();
