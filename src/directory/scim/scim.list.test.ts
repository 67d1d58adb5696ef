import { describe, expect, it } from 'vitest';
import { AppError } from '../../errors/index.js';
import { eqHint, parseFilter } from './scim.filter.js';
import { type Cursor, type ListParams, type ListSource, listResources, MAX_SCAN } from './scim.list.js';

interface Row extends Cursor {
  userName: string;
}

/** An in-memory organization of `n` rows (in (createdAt, id) order), counting what a list reads. */
function organization(n: number) {
  const rows: Row[] = Array.from({ length: n }, (_, i) => ({
    createdAt: `2026-01-01T00:00:${String(Math.floor(i / 3)).padStart(5, '0')}Z`,
    id: `id-${String(i).padStart(6, '0')}`,
    userName: `user${i}`,
  }));
  const reads = { count: 0, list: 0, present: 0, presented: 0, narrowed: 0 };
  const after = (c: Cursor) => (r: Row) => r.createdAt > c.createdAt || (r.createdAt === c.createdAt && r.id > c.id);
  const source: ListSource<Row> = {
    async narrowed(filter) {
      const userName = eqHint(filter, 'userName');
      if (userName === undefined) return undefined;
      reads.narrowed++;
      return rows.filter((r) => r.userName.toLowerCase() === userName.toLowerCase());
    },
    async count() {
      reads.count++;
      return rows.length;
    },
    async list(page) {
      reads.list++;
      const from = page.after ? rows.filter(after(page.after)) : rows.slice(page.offset ?? 0);
      return from.slice(0, page.limit);
    },
    async present(list) {
      reads.present++;
      reads.presented += list.length;
      return list.map((r) => ({ schemas: ['s'], id: r.id, userName: r.userName, meta: {} }));
    },
  };
  const list = (params: ListParams) => listResources(params, parseFilter(params.filter), source);
  return { rows, reads, list };
}

const ids = (res: { Resources: Record<string, unknown>[] }) => res.Resources.map((r) => r.id);

describe('SCIM list paging', () => {
  it('pages an unfiltered list by offset and limit: one count, one page read, only the page presented', async () => {
    const org = organization(250);
    const first = await org.list({});
    expect(first).toMatchObject({ totalResults: 250, startIndex: 1, itemsPerPage: 100 });
    expect(ids(first)).toEqual(org.rows.slice(0, 100).map((r) => r.id));
    expect(org.reads).toEqual({ count: 1, list: 1, present: 1, presented: 100, narrowed: 0 });

    const last = await org.list({ startIndex: 201, count: 100 });
    expect(last).toMatchObject({ totalResults: 250, startIndex: 201, itemsPerPage: 50 });
    expect(ids(last)).toEqual(org.rows.slice(200).map((r) => r.id));

    const before = { ...org.reads };
    expect(await org.list({ count: 0 })).toMatchObject({ totalResults: 250, itemsPerPage: 0, Resources: [] });
    expect(await org.list({ startIndex: 251 })).toMatchObject({ totalResults: 250, startIndex: 251, itemsPerPage: 0, Resources: [] });
    // Neither reads a page.
    expect(org.reads.list).toBe(before.list);
    expect((await org.list({ count: 5000 })).itemsPerPage).toBe(250);
  });

  it('narrows by an indexed eq and evaluates the whole filter on what it finds', async () => {
    const org = organization(50);
    const hit = await org.list({ filter: 'userName eq "USER7"' });
    expect(ids(hit)).toEqual(['id-000007']);
    expect(await org.list({ filter: 'userName eq "user7" and id eq "other"' })).toMatchObject({ totalResults: 0, Resources: [] });
    expect(org.reads).toMatchObject({ count: 0, list: 0, narrowed: 2, presented: 2 });
  });

  it('scans other filters page by page, keeping only the requested window', async () => {
    const org = organization(1234);
    // user1, user10…user19, user100…user199, user1000…user1233: 1 + 10 + 100 + 234 = 345 matches.
    const res = await org.list({ filter: 'userName sw "user1"', startIndex: 11, count: 20 });
    expect(res).toMatchObject({ totalResults: 345, startIndex: 11, itemsPerPage: 20 });
    expect(ids(res)).toEqual(
      org.rows
        .filter((r) => r.userName.startsWith('user1'))
        .slice(10, 30)
        .map((r) => r.id),
    );
    // One count, then three pages of 500 (keyset), every row presented once.
    expect(org.reads).toEqual({ count: 1, list: 3, present: 3, presented: 1234, narrowed: 0 });
  });

  it(`refuses a filter no index serves over more than ${MAX_SCAN} rows (scim.too_many), before reading any`, async () => {
    const org = organization(MAX_SCAN + 1);
    const err = await org.list({ filter: 'userName co "9"' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'scim.too_many', status: 400 });
    expect(org.reads).toMatchObject({ count: 1, list: 0, present: 0 });
    // An indexed filter and an unfiltered page still work at that size.
    expect((await org.list({ filter: 'userName eq "user9"' })).totalResults).toBe(1);
    expect((await org.list({ count: 1 })).totalResults).toBe(MAX_SCAN + 1);
    expect((await organization(MAX_SCAN).list({ filter: 'userName co "9999"' })).totalResults).toBe(1);
  });
});
