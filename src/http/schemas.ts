import { Type } from 'typebox';
import { AppError } from '../errors/index.js';

/** DESIGN.md's one error body. */
export const ErrorBody = Type.Object(
  {
    success: Type.Literal(false),
    code: Type.Integer({ description: 'gRPC canonical status number' }),
    message: Type.String(),
    error: Type.String({ description: 'Stable dotted error id, see docs/errors.md' }),
    status: Type.Integer({ description: 'HTTP status' }),
    details: Type.Optional(Type.Array(Type.String(), { description: 'Field paths that failed validation' })),
  },
  { $id: 'ErrorBody', title: 'ErrorBody' },
);

const errorRef = Type.Ref('ErrorBody');

/** Declares the error responses of a route (for OpenAPI; the handler emits the body). */
export function errors(...statuses: number[]): Record<number, typeof errorRef> {
  return Object.fromEntries(statuses.map((s) => [s, errorRef]));
}

export const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

export const PageQuery = {
  pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })),
  pageToken: Type.Optional(Type.String({ maxLength: 512 })),
};

/** Keyset cursor: an opaque base64url of the last row's sort key. */
export function encodeCursor(parts: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

export function decodeCursor(token: string | undefined): (string | number)[] | undefined {
  if (!token) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.every((p) => typeof p === 'string' || typeof p === 'number')) return parsed;
  } catch {
    // fall through to the error below
  }
  throw new AppError('request.invalid', { details: ['pageToken'], detail: 'undecodable page token' });
}

/** How a list's rows are ordered for keyset paging: the cursor a row leaves, and what a cursor means to the reader. */
export interface KeysetOrder<T, A> {
  cursorOf(row: T): (string | number)[];
  decode(parts: (string | number)[]): A;
}

/** Rows ordered by (createdAt, id): users, vault logins. */
export const byCreation = <T extends { createdAt: string; id: string }>(): KeysetOrder<T, { createdAt: string; id: string }> => ({
  cursorOf: (row) => [row.createdAt, row.id],
  decode: (parts) => ({ createdAt: String(parts[0]), id: String(parts[1]) }),
});

/**
 * One page of a keyset-paged list (`pageSize`, `pageToken` → `nextPageToken`, empty on the last page).
 * `read` gets the position after the previous page and reads one row more than the page, which says
 * whether another page follows.
 */
export async function keysetPage<T, A>(
  query: { pageSize: number; pageToken?: string | undefined },
  order: KeysetOrder<NoInfer<T>, A>,
  read: (after: A | undefined, limit: number) => Promise<T[]>,
): Promise<{ rows: T[]; nextPageToken: string }> {
  const cursor = decodeCursor(query.pageToken);
  const rows = await read(cursor ? order.decode(cursor) : undefined, query.pageSize + 1);
  const page = rows.slice(0, query.pageSize);
  const last = page[page.length - 1];
  return { rows: page, nextPageToken: rows.length > query.pageSize && last ? encodeCursor(order.cursorOf(last)) : '' };
}
