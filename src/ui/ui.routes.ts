import type { FastifyPluginAsync } from 'fastify';
import { CONSOLE_HTML } from './page.js';

/** `GET /` serves the web console. */
export const uiRoutes: FastifyPluginAsync = async (app) => {
  app.get('/', { config: { auth: 'none' }, schema: { hide: true } }, async (_req, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header(
        'content-security-policy',
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'",
      )
      .send(CONSOLE_HTML),
  );
};
