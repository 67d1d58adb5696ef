import type { Filter } from 'scim2-parse-filter';
import { AppError } from '../../errors/index.js';
import { matches } from './scim.filter.js';
import { type Projection, project, type Resource } from './scim.resources.js';
import { SCIM } from './scim.schemas.js';

/** `GET /Users` and `GET /Groups` query parameters (RFC 7644 §3.4.2). */
export interface ListParams extends Projection {
  filter?: string | undefined;
  startIndex?: number | undefined;
  count?: number | undefined;
  /** Sorting is not supported (`sort.supported: false`): only checked, never applied. */
  sortBy?: string | undefined;
}

/** A SCIM ListResponse. */
export interface ListResponse<T = Resource> {
  schemas: string[];
  totalResults: number;
  startIndex: number;
  itemsPerPage: number;
  Resources: T[];
}

/** `count` at most (`filter.maxResults` in ServiceProviderConfig). */
const MAX_RESULTS = 1000;
const DEFAULT_COUNT = 100;
/**
 * A filter no index serves is evaluated in memory over the organization's rows, read in pages of
 * `SCAN_PAGE`; an organization with more than `MAX_SCAN` of them refuses it (`scim.too_many`).
 */
export const MAX_SCAN = 10_000;
const SCAN_PAGE = 500;

/** Where a row stands in (createdAt, id) order: the order of every list. */
export interface Cursor {
  createdAt: string;
  id: string;
}

/** What a list reads, for one kind of resource in the caller's organization. */
export interface ListSource<T extends Cursor> {
  /** The rows an indexed `eq` of the filter narrows to (a handful), or `undefined` when it has none. */
  narrowed(filter: Filter): Promise<T[] | undefined>;
  /** How many rows the organization has (the unfiltered `totalResults`). */
  count(): Promise<number>;
  /** Rows in (createdAt, id) order: `offset` skips that many, `after` continues after a row. */
  list(page: { limit: number; offset?: number; after?: Cursor }): Promise<T[]>;
  /** The rows as SCIM resources, in the same order. */
  present(rows: T[]): Promise<Resource[]>;
}

/** A ListResponse whose `Resources` are already the page. */
export function listResponse<T>(totalResults: number, startIndex: number, resources: T[]): ListResponse<T> {
  return { schemas: [SCIM.list], totalResults, startIndex, itemsPerPage: resources.length, Resources: resources };
}

/**
 * One page of a list (RFC 7644 §3.4.2), read as cheaply as the filter allows:
 * - no filter: the page itself in SQL (`startIndex`/`count` → offset/limit in (createdAt, id)
 *   order) and `totalResults` by a SQL count;
 * - a filter with an indexed `eq` conjunct: the few rows it narrows to, then the whole filter;
 * - any other filter: the organization's rows in pages, keeping only the requested window;
 *   refused with `scim.too_many` when the organization has more than {@link MAX_SCAN} rows.
 */
export async function listResources<T extends Cursor>(
  params: ListParams,
  filter: Filter | undefined,
  source: ListSource<T>,
): Promise<ListResponse> {
  const start = Math.max(1, params.startIndex ?? 1);
  const count = Math.min(MAX_RESULTS, Math.max(0, params.count ?? DEFAULT_COUNT));
  const respond = (total: number, page: Resource[]) =>
    listResponse(
      total,
      start,
      page.map((r) => project(r, params)),
    );

  if (!filter) {
    const total = await source.count();
    const rows = count > 0 && start <= total ? await source.list({ offset: start - 1, limit: count }) : [];
    return respond(total, await source.present(rows));
  }

  const narrowed = await source.narrowed(filter);
  if (narrowed) {
    const matched = (await source.present(narrowed)).filter((r) => matches(r, filter));
    return respond(matched.length, matched.slice(start - 1, start - 1 + count));
  }

  const rows = await source.count();
  if (rows > MAX_SCAN) {
    throw new AppError('scim.too_many', { details: ['filter'], detail: `${rows} rows to scan; at most ${MAX_SCAN}` });
  }
  let total = 0;
  const page: Resource[] = [];
  let after: Cursor | undefined;
  for (;;) {
    const batch = await source.list({ limit: SCAN_PAGE, ...(after ? { after } : {}) });
    for (const r of await source.present(batch)) {
      if (!matches(r, filter)) continue;
      if (total >= start - 1 && page.length < count) page.push(r);
      total++;
    }
    const last = batch[batch.length - 1];
    if (batch.length < SCAN_PAGE || !last) break;
    after = { createdAt: last.createdAt, id: last.id };
  }
  return respond(total, page);
}
