import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors/index.js';

/** A route's URL pattern as a regular expression over concrete paths (`:id` one segment, `*` the rest, `::` a colon). */
function patternOf(url: string): RegExp {
  let source = '';
  for (let i = 0; i < url.length; i++) {
    const c = url[i] as string;
    if (c === ':' && url[i + 1] === ':') {
      source += ':';
      i++;
    } else if (c === ':') {
      while (i + 1 < url.length && /[\w-]/.test(url[i + 1] as string)) i++;
      source += '[^/]+';
    } else if (c === '*') source += '.*';
    else source += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source.replace(/\/$/, '')}/?$`);
}

/**
 * Knows every route's methods, so that a known path asked with another method answers
 * 405 `method.not_allowed` with `Allow` (RFC 9110 §15.5.6) instead of 404. Registered before the
 * routes (it learns them as they are added); only not-found answers consult it.
 */
export function trackRouteMethods(app: FastifyInstance): (req: FastifyRequest) => AppError {
  const routes: { pattern: RegExp; methods: Set<string> }[] = [];
  const byUrl = new Map<string, { pattern: RegExp; methods: Set<string> }>();
  app.addHook('onRoute', (route) => {
    let entry = byUrl.get(route.url);
    if (!entry) {
      entry = { pattern: patternOf(route.url), methods: new Set() };
      byUrl.set(route.url, entry);
      routes.push(entry);
    }
    for (const m of Array.isArray(route.method) ? route.method : [route.method]) entry.methods.add(m.toUpperCase());
  });
  return (req) => {
    const path = (req.url.split('?')[0] ?? '/').replace(/\/{2,}/g, '/');
    const allowed = new Set<string>();
    for (const r of routes) if (r.pattern.test(path)) for (const m of r.methods) allowed.add(m);
    if (allowed.size === 0 || allowed.has(req.method)) return new AppError('route.not_found');
    return new AppError('method.not_allowed', { headers: { allow: [...allowed].sort().join(', ') }, detail: `${req.method} ${path}` });
  };
}
