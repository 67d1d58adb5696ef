import { ERROR_CATALOGUE, type ErrorCode } from './catalogue.js';

export interface AppErrorOptions {
  /** Internal reason: logged and audited, never sent to the client. */
  detail?: string;
  /** Field paths that failed validation; sent as `details`. */
  details?: string[];
  /** Overrides the catalogue's public message (only where a client matches the exact text). */
  message?: string;
  cause?: unknown;
  /** Extra response headers (e.g. `Retry-After`). */
  headers?: Record<string, string>;
}

/** The one error type. The error handler turns it into DESIGN.md's error body. */
export class AppError extends Error {
  override name = 'AppError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly grpc: number;
  readonly expose: boolean;
  readonly detail: string | undefined;
  readonly details: string[] | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(code: ErrorCode, options: AppErrorOptions = {}) {
    const spec = ERROR_CATALOGUE[code];
    super(options.message ?? spec.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = spec.status;
    this.grpc = spec.grpc;
    this.expose = spec.status < 500;
    this.detail = options.detail;
    this.details = options.details;
    this.headers = options.headers;
  }
}

/** Throws `AppError(code)` unless `condition` holds. `detail` stays internal. */
export function assertThat(condition: unknown, code: ErrorCode, detail?: string): asserts condition {
  if (!condition) throw new AppError(code, detail === undefined ? {} : { detail });
}
