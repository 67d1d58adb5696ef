import type { Principal, Restriction, Scope } from '../auth/index.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** 404 `route.not_found`, or 405 `method.not_allowed` with `Allow` for a known path (the error handler sets it). */
    notFoundError(req: FastifyRequest): import('../errors/index.js').AppError;
  }
  interface FastifyRequest {
    /** Set by the guard on routes that authenticate. */
    principal: Principal | undefined;
  }
  interface FastifyContextConfig {
    /** `required` (default), `optional` (a presented credential must still be valid) or `none`. */
    auth?: 'none' | 'optional' | 'required';
    /** Every scope listed is needed. */
    scopes?: Scope[];
    /** Restricted sessions that may still call this route. */
    allowRestricted?: Restriction[];
    /** Only `x-api-key` / Basic are read (login: a stale Bearer is ignored). */
    apiKeyOnly?: boolean;
  }
}
