import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppError, ErrorCode } from '../../errors/index.js';
import { classifyError, logError } from '../../http/index.js';
import { SCIM, SCIM_CONTENT_TYPE } from './scim.schemas.js';

/** RFC 7644 §3.12 `scimType` for our error ids. */
const SCIM_TYPES: Partial<Record<ErrorCode, string>> = {
  'scim.invalid_filter': 'invalidFilter',
  'scim.invalid_path': 'invalidPath',
  'scim.invalid_syntax': 'invalidSyntax',
  'scim.invalid_value': 'invalidValue',
  'scim.mutability': 'mutability',
  'scim.no_target': 'noTarget',
  'scim.too_many': 'tooMany',
  'request.invalid': 'invalidValue',
  'request.malformed_body': 'invalidSyntax',
  'resource.conflict': 'uniqueness',
};

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
  app.setErrorHandler((raw: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const classified = classifyError(raw);
    logError(req, raw, classified);
    return send(reply, classified.error);
  });
  app.setNotFoundHandler((req, reply) => send(reply, req.server.notFoundError(req)));
}
