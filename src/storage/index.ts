export {
  createStorage,
  type Db,
  type Executor,
  isoNow,
  isUniqueViolation,
  type Storage,
  type StorageOptions,
  type Tx,
  UniqueViolation,
  uniquely,
  uniqueViolationOf,
} from './db.js';
export type * from './tables.js';
