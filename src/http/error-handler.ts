import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ERROR_CATALOGUE, type ErrorCode } from '../errors/index.js';
import { trackRouteMethods } from './methods.js';

export interface ErrorBodyShape {
  success: false;
  code: number;
  message: string;
  error: string;
  status: number;
  details?: string[];
}

export function errorBody(code: ErrorCode, options: { message?: string; details?: string[] } = {}): ErrorBodyShape {
  const spec = ERROR_CATALOGUE[code];
  return {
    success: false,
    code: spec.grpc,
    message: options.message ?? spec.message,
    error: code,
    status: spec.status,
    ...(options.details && options.details.length > 0 ? { details: options.details } : {}),
  };
}

/** Field paths from Fastify/ajv validation errors, e.g. `body.loginConfiguration.email`. */
function validationPaths(err: FastifyError): string[] {
  const context = err.validationContext ?? 'body';
  const paths = new Set<string>();
  for (const v of err.validation ?? []) {
    const base = v.instancePath.replace(/^\//, '').replace(/\//g, '.');
    const missing = (v.params as { missingProperty?: string } | undefined)?.missingProperty;
    const path = [context, base, missing].filter(Boolean).join('.');
    paths.add(path);
  }
  return [...paths];
}

/** Maps Fastify's own errors (parsing, limits, validation) onto our catalogue. */
function fromFastifyError(err: FastifyError | undefined): AppError | undefined {
  if (!err || typeof err !== 'object') return undefined;
  if (err.validation) return new AppError('request.invalid', { details: validationPaths(err), detail: err.message });
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('request.too_large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
        ? new AppError('request.unsupported_media_type', { details: ['headers.content-type'] })
        : new AppError('request.malformed_body');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError('request.malformed_body');
    default:
      break;
  }
  const status = err.statusCode ?? 500;
  if (status === 413) return new AppError('request.too_large');
  if (status === 415) return new AppError('request.unsupported_media_type', { details: ['headers.content-type'] });
  if (status === 404) return new AppError('route.not_found');
  if (status === 405) return new AppError('method.not_allowed');
  if (status === 429) return new AppError('rate.limited');
  if (status === 503) return new AppError('service.unavailable');
  if (status >= 400 && status < 500) return new AppError('request.malformed_body', { detail: err.message });
  return undefined;
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  // PostgreSQL: admin/crash shutdown, cannot connect now, connection exceptions (class 08).
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  'SQLITE_BUSY',
]);
const UNAVAILABLE_MESSAGES =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Connection is closed|Stream isn't writeable|Reached the max retries per request|MaxRetriesPerRequest|ECONNREFUSED|ECONNRESET/i;

/**
 * True when `err` (or something in its cause chain) says a backing service — PostgreSQL, Redis —
 * cannot be reached right now: a 503 the client may retry, not a 500.
 */
export function isUnavailableError(err: unknown): boolean {
  let e = err as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown; errors?: unknown } | undefined;
  for (let depth = 0; e && depth < 5; depth++) {
    if (typeof e.code === 'string' && UNAVAILABLE_CODES.has(e.code)) return true;
    if (e.name === 'MaxRetriesPerRequestError') return true;
    if (typeof e.message === 'string' && UNAVAILABLE_MESSAGES.test(e.message)) return true;
    // AggregateError (a connection attempt to several addresses)
    if (Array.isArray(e.errors) && e.errors.some((inner) => isUnavailableError(inner))) return true;
    e = e.cause as typeof e;
  }
  return false;
}

/**
 * PostgreSQL data exceptions that only the input can cause — a NUL byte or invalid UTF-8 in text
 * (22021), text that is not a number or uuid (22P02), a value out of range or too long — are a 400.
 */
const BAD_INPUT_CODES = new Set(['22021', '22P02', '22001', '22003', '22007', '22008']);
const isBadInputError = (err: unknown): boolean => {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && BAD_INPUT_CODES.has(code);
};

export function sendError(reply: FastifyReply, err: AppError): FastifyReply {
  if (err.headers) reply.headers(err.headers);
  if (err.status === 401) reply.header('www-authenticate', 'Bearer realm="portcullis"');
  return reply
    .code(err.status)
    .type('application/json; charset=utf-8')
    .send(errorBody(err.code, { message: err.message, ...(err.details ? { details: err.details } : {}) }));
}

/**
 * Turns anything thrown into the `AppError` that leaves, and how loudly to log it: exposed
 * `AppError`s as they are; Fastify's parsing, limit and schema errors as our codes; data the database
 * refuses as 400; an unreachable database or Redis as 503; everything else as a fixed 500.
 * Every error handler (ours, SCIM's) goes through this.
 */
export function classifyError(raw: unknown): { error: AppError; level: 'info' | 'warn' | 'error' } {
  const err = raw instanceof AppError ? raw : fromFastifyError(raw as FastifyError);
  if (err?.expose) return { error: err, level: 'info' };
  if (!err && isBadInputError(raw))
    return { error: new AppError('request.invalid', { detail: 'database refused the input' }), level: 'info' };
  // Why: a database or Redis outage is the service being unavailable (503, retry later), not a bug (500).
  if (!err && isUnavailableError(raw)) return { error: new AppError('service.unavailable', { cause: raw }), level: 'warn' };
  return { error: err ?? new AppError('server_error'), level: 'error' };
}

/** Logs a classified error: refusals with their internal detail, failures with the raw error. */
export function logError(req: FastifyRequest, raw: unknown, classified: ReturnType<typeof classifyError>): void {
  const { error, level } = classified;
  if (level === 'info') {
    if (error.detail) req.log.info({ err: { code: error.code, detail: error.detail } }, 'request refused');
  } else if (level === 'warn') req.log.warn({ err: raw }, 'backing service unavailable');
  else req.log.error({ err: raw }, 'unhandled error');
}

/** The one error handler: every error leaves through `classifyError` in DESIGN.md's body. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((raw: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const classified = classifyError(raw);
    logError(req, raw, classified);
    return sendError(reply, classified.error);
  });
  const notFound = trackRouteMethods(app);
  app.decorate('notFoundError', notFound);
  app.setNotFoundHandler((req, reply) => sendError(reply, notFound(req)));
}

/**
 * Fastify's `clientErrorHandler`: requests Node's HTTP parser refuses before Fastify sees them
 * (headers over the size limit, malformed request lines) answer the same error body as the rest.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    socket.end('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  const code: ErrorCode = err.code === 'HPE_HEADER_OVERFLOW' ? 'request.headers_too_large' : 'request.invalid';
  const body = JSON.stringify(errorBody(code));
  const reason = code === 'request.headers_too_large' ? 'Request Header Fields Too Large' : 'Bad Request';
  socket.end(
    `HTTP/1.1 ${ERROR_CATALOGUE[code].status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * Fastify's `frameworkErrors`: a URL the router cannot decode or a path parameter over
 * `maxParamLength` never reaches a route; it answers the error body (400) instead of Fastify's own.
 */
export function frameworkErrors(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  sendError(reply, new AppError('request.invalid', { details: ['url'], detail: err.code }));
}
