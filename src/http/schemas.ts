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
