import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ERROR_CATALOGUE, type ErrorCode } from '../errors/index.js';

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
function fromFastifyError(err: FastifyError): AppError | undefined {
  if (err.validation) return new AppError('request.invalid', { details: validationPaths(err), detail: err.message });
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('request.too_large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
        ? new AppError('request.unsupported_media_type')
        : new AppError('request.malformed_body');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError('request.malformed_body');
    default:
      break;
  }
  const status = err.statusCode ?? 500;
  if (status === 413) return new AppError('request.too_large');
  if (status === 415) return new AppError('request.unsupported_media_type');
  if (status === 404) return new AppError('route.not_found');
  if (status === 405) return new AppError('method.not_allowed');
  if (status === 429) return new AppError('rate.limited');
  if (status === 503) return new AppError('service.unavailable');
  if (status >= 400 && status < 500) return new AppError('request.malformed_body', { detail: err.message });
  return undefined;
}

export function sendError(reply: FastifyReply, err: AppError): FastifyReply {
  if (err.headers) reply.headers(err.headers);
  if (err.status === 401) reply.header('www-authenticate', 'Bearer realm="portcullis"');
  return reply
    .code(err.status)
    .type('application/json; charset=utf-8')
    .send(errorBody(err.code, { message: err.message, ...(err.details ? { details: err.details } : {}) }));
}

/**
 * The one error handler. Exposed `AppError`s leave as their code; schema failures as
 * `request.invalid` with field paths; anything else as a fixed 500 body, logged with the request id.
 */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((raw: FastifyError | AppError, req: FastifyRequest, reply: FastifyReply) => {
    const err = raw instanceof AppError ? raw : fromFastifyError(raw as FastifyError);
    if (err?.expose) {
      if (err.detail) req.log.info({ err: { code: err.code, detail: err.detail } }, 'request refused');
      return sendError(reply, err);
    }
    req.log.error({ err: raw }, 'unhandled error');
    return sendError(reply, err ?? new AppError('server_error'));
  });
  app.setNotFoundHandler((_req, reply) => sendError(reply, new AppError('route.not_found')));
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
