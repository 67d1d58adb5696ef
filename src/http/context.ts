import type { FastifyRequest } from 'fastify';
import type { RequestContext } from '../auth/index.js';
import { AppError } from '../errors/index.js';

/** The `RequestContext` a route hands to its service. */
export function ctx(req: FastifyRequest): RequestContext {
  return {
    principal: req.principal,
    ip: req.ip,
    requestId: req.id,
    userAgent: req.headers['user-agent'],
    now: new Date(),
  };
}

/** The principal of an authenticated route (the guard guarantees it). */
export function principalOf(req: FastifyRequest) {
  if (!req.principal) throw new AppError('auth.unauthenticated');
  return req.principal;
}
