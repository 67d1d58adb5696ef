import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';

/**
 * The built browser app (`web/`, Vite): `src/ui` and `dist/ui` both sit two levels below the
 * project root, so one relative path serves the tests (tsx) and the built server.
 */
export const WEB_DIST = fileURLToPath(new URL('../../web/dist/', import.meta.url));

/**
 * The console's policy: scripts and styles only from this origin (Vite's build has no inline
 * script or style; React sets styles through the CSSOM, which CSP allows), images also as data:
 * URLs (the TOTP QR code) and over https (an organization's logo), no framing, no plugins.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: https:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "object-src 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The client-side routes: each answers the app's index.html and the app picks the page. */
export const CLIENT_ROUTES = ['/', '/verify-email', '/reset-password', '/account', '/account/*', '/admin', '/admin/*'] as const;

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Portcullis</title></head>
<body><h1>Portcullis</h1><p>The web console is not built. Run <code>npm run build</code> (or <code>npm start</code>, which builds first).</p></body></html>`;

/**
 * Serves the web console: `/assets/*` from the build (immutable, hashed names) and the
 * client routes as index.html. Unknown paths stay the API's 404 (no catch-all), so a mistyped
 * API path still answers the JSON error body.
 */
export const uiRoutes: FastifyPluginAsync = async (app) => {
  const indexPath = `${WEB_DIST}index.html`;
  const built = existsSync(indexPath);
  // Read once: the file is small and changes only with a new build (a restart).
  const indexHtml = built ? readFileSync(indexPath, 'utf8') : NOT_BUILT;

  const sendIndex = (reply: FastifyReply) =>
    reply.type('text/html; charset=utf-8').header('content-security-policy', CONSOLE_CSP).header('x-frame-options', 'DENY').send(indexHtml);

  for (const url of CLIENT_ROUTES) {
    app.get(url, { config: { auth: 'none' }, schema: { hide: true } }, async (_req, reply) => sendIndex(reply));
  }

  if (built) {
    await app.register(async (assets) => {
      assets.addHook('onRoute', (route) => {
        route.config = { ...(route.config ?? {}), auth: 'none' };
        route.schema = { ...(route.schema ?? {}), hide: true };
      });
      await assets.register(fastifyStatic, {
        root: `${WEB_DIST}assets`,
        prefix: '/assets/',
        index: false,
        cacheControl: false,
        setHeaders: (reply) => {
          // Hashed file names: a new build is a new URL.
          reply.header('cache-control', 'public, max-age=31536000, immutable');
          reply.header('content-security-policy', CONSOLE_CSP);
        },
      });
    });
  }
};
