import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors/index.js';

/** `application/json`, `application/*+json` (json-patch, scim, problem…) and `text/json`: parsed as plain JSON. */
export const JSON_TYPES = /^(application\/(?:[\w.-]+\+)?json|text\/json)(?:\s*;.*)?$/i;

/**
 * Replaces Fastify's parsers: only JSON media types are accepted (others answer 415).
 * secure-json-parse refuses `__proto__` / `constructor.prototype` keys.
 */
export function registerJsonParsers(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(JSON_TYPES, { parseAs: 'string' }, parseJson);
}

/**
 * For the four Bytebase auth routes (inside their own plugin scope): a body is JSON whatever
 * the content type says, or when there is none (`curl -d` sends x-www-form-urlencoded).
 */
export function registerLenientJsonParser(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
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
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(/^application\/json(?:\s*;.*)?$/i, { parseAs: 'string' }, parseJson);
  app.addContentTypeParser('*', (_req, _payload, done) => {
    done(
      new AppError('request.invalid', { details: ['headers.content-type'], detail: 'Content-Type must be application/json' }),
      undefined,
    );
  });
}
