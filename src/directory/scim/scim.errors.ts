import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorCode } from '../../errors/index.js';
import { SCIM, SCIM_CONTENT_TYPE } from './scim.schemas.js';

/** RFC 7644 §3.12 `scimType` for our error ids. */
const SCIM_TYPES: Partial<Record<ErrorCode, string>> = {
  'scim.invalid_filter': 'invalidFilter',
  'scim.invalid_path': 'invalidPath',
  'scim.invalid_syntax': 'invalidSyntax',
  'scim.invalid_value': 'invalidValue',
  'scim.mutability': 'mutability',
  'scim.no_target': 'noTarget',
  'request.invalid': 'invalidValue',
  'request.malformed_body': 'invalidSyntax',
  'resource.conflict': 'uniqueness',
};

/** Fastify's own errors (parsing, limits, schema validation) as our catalogue's. */
function fromFastifyError(err: FastifyError): AppError | undefined {
  if (err.validation) {
    const details = err.validation.map((v) => {
      const missing = (v.params as { missingProperty?: string } | undefined)?.missingProperty;
      return [err.validationContext ?? 'body', v.instancePath.replace(/^\//, '').replace(/\//g, '.'), missing].filter(Boolean).join('.');
    });
    return new AppError('request.invalid', { details: [...new Set(details)], detail: err.message });
  }
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || err.statusCode === 413) return new AppError('request.too_large');
  if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || err.statusCode === 415) return new AppError('request.unsupported_media_type');
  const status = err.statusCode ?? 500;
  if (status === 429) return new AppError('rate.limited');
  if (status === 503) return new AppError('service.unavailable');
  if (status >= 400 && status < 500) return new AppError('request.malformed_body', { detail: err.message });
  return undefined;
}

export function scimErrorBody(err: AppError) {
  const scimType = SCIM_TYPES[err.code];
  const detail = err.details?.length ? `${err.message} (${err.details.join(', ')})` : err.message;
  return { schemas: [SCIM.error], status: String(err.status), ...(scimType ? { scimType } : {}), detail };
}

/** Inside the SCIM plugin: every error leaves as a SCIM error body in `application/scim+json`. */
export function registerScimErrorHandling(app: FastifyInstance): void {
  const send = (reply: FastifyReply, err: AppError) => {
    if (err.headers) reply.headers(err.headers);
    if (err.status === 401) reply.header('www-authenticate', 'Bearer realm="portcullis"');
    return reply.code(err.status).type(SCIM_CONTENT_TYPE).send(scimErrorBody(err));
  };
  app.setErrorHandler((raw: FastifyError | AppError, req: FastifyRequest, reply: FastifyReply) => {
    const err = raw instanceof AppError ? raw : fromFastifyError(raw as FastifyError);
    if (err?.expose) {
      if (err.detail) req.log.info({ err: { code: err.code, detail: err.detail } }, 'request refused');
      return send(reply, err);
    }
    req.log.error({ err: raw }, 'unhandled error');
    return send(reply, err ?? new AppError('server_error'));
  });
  app.setNotFoundHandler((_req, reply) => send(reply, new AppError('route.not_found')));
}
