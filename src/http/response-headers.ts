import type { FastifyInstance } from 'fastify';

/**
 * Headers on every answer: the request id, and the security headers an API owes its callers.
 * `cache-control: no-store` because answers carry tokens and account data (RFC 6749 §5.1);
 * routes that may be cached (JWKS, discovery) override it. The rest are helmet's defaults without
 * a CSP (the console page sets its own). One object, set in one synchronous hook: this runs on
 * every request, and helmet's middleware chain cost a tenth of a small request's time.
 */
const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'cache-control': 'no-store',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'SAMEORIGIN',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
});

export function registerResponseHeaders(app: FastifyInstance): void {
  app.addHook('onRequest', (req, reply, done) => {
    reply.headers(SECURITY_HEADERS);
    reply.header('x-request-id', req.id);
    done();
  });
}
