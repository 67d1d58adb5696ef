import type { FastifyBodyParser, FastifyInstance } from 'fastify';
import { AppError } from '../errors/index.js';
import { markBodyParsing } from './openapi.js';
import { findForbiddenKey } from './safe-keys.js';

/** `application/json`, `application/*+json` (json-patch, scim, problem…) and `text/json`: parsed as plain JSON. */
export const JSON_TYPES = /^(application\/(?:[\w.-]+\+)?json|text\/json)(?:\s*;.*)?$/i;

/**
 * Fastify's JSON parser (secure-json-parse: refuses `__proto__` keys and `constructor` keys
 * holding a `prototype`), then a refusal of any `__proto__`, `constructor` or `prototype` key at
 * any depth, in any letter case. Every parser below goes through it.
 */
function safeJsonParser(app: FastifyInstance): FastifyBodyParser<string> {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  return (req, body, done) => {
    // Why: clients that set a JSON content type for a whole session send it on bodiless requests too
    // (a SCIM DELETE, a logout); no body is no body, and the route's schema decides whether it needs one.
    if (body.trim() === '') return done(null, undefined);
    parseJson(req, body, (err, value) => {
      if (err) return done(err, undefined);
      // Why: secure-json-parse lets `{"constructor": {...}}` and `{"prototype": {...}}` through, and code
      // that copies or walks a body by its keys (a merge, a SCIM path) would follow them to a shared
      // prototype. No request of ours needs such a key, so it is refused like `__proto__`.
      const where = findForbiddenKey(value, body);
      if (where !== undefined) {
        return done(
          new AppError('request.malformed_body', { details: [`body.${where}`.slice(0, 256)], detail: `forbidden key at ${where}` }),
          undefined,
        );
      }
      done(null, value);
    });
  };
}

/**
 * Replaces Fastify's parsers: only JSON media types are accepted (others answer 415).
 * Keys named `__proto__`, `constructor` or `prototype` are refused (400) at any depth.
 */
export function registerJsonParsers(app: FastifyInstance): void {
  const parseJson = safeJsonParser(app);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(JSON_TYPES, { parseAs: 'string' }, parseJson);
}

/**
 * For the four Bytebase auth routes (inside their own plugin scope): a body is JSON whatever
 * the content type says, or when there is none (`curl -d` sends x-www-form-urlencoded).
 */
export function registerLenientJsonParser(app: FastifyInstance): void {
  markBodyParsing(app, 'lenient');
  const parseJson = safeJsonParser(app);
  app.addContentTypeParser('*', { parseAs: 'string' }, (req, body, done) => {
    if (typeof body === 'string' && body.trim() === '') return done(null, {});
    parseJson(req, String(body), done);
  });
}

/**
 * HelloID's credential routes: `Content-Type: application/json` is required and anything
 * else is the seed's 400 (not 415).
 */
export function registerStrictJsonParser(app: FastifyInstance): void {
  markBodyParsing(app, 'strict');
  const parseJson = safeJsonParser(app);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(/^application\/json(?:\s*;.*)?$/i, { parseAs: 'string' }, parseJson);
  app.addContentTypeParser('*', (_req, _payload, done) => {
    done(
      new AppError('request.invalid', { details: ['headers.content-type'], detail: 'Content-Type must be application/json' }),
      undefined,
    );
  });
}
