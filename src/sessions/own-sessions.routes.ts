import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ctx, errors } from '../http/index.js';
import type { SessionsService } from './sessions.service.js';

const Nullable = (t: ReturnType<typeof Type.String>) => Type.Union([t, Type.Null()]);
const OwnSession = Type.Object(
  {
    id: Type.String(),
    method: Type.String({ description: 'How it signed in: password, mfa, passkey, idp, workload' }),
    ip: Nullable(Type.String()),
    userAgent: Nullable(Type.String()),
    createdAt: Type.String(),
    lastSeenAt: Type.String({ description: 'The last refresh' }),
    expiresAt: Type.String(),
    current: Type.Boolean({ description: 'The session making this request' }),
  },
  { $id: 'OwnSession', title: 'OwnSession' },
);

/** The signed-in user's own sessions: list and end (interactive sessions only, policy `self.manage_sessions`). */
export const ownSessionRoutes: FastifyPluginAsyncTypebox<{ services: { sessions: SessionsService } }> = async (app, { services }) => {
  const { sessions } = services;
  app.addSchema(OwnSession);

  app.get(
    '/v1/auth/sessions',
    {
      schema: {
        operationId: 'listOwnSessions',
        tags: ['auth'],
        summary: "List the signed-in user's active sessions",
        description:
          'Live sessions (not ended, not expired), most recently refreshed first, with how each signed in, its address and user agent. `current` marks the caller. Never with an API key.',
        response: { 200: Type.Object({ sessions: Type.Array(Type.Ref('OwnSession'), { maxItems: 200 }) }), ...errors(401, 403) },
      },
    },
    async (req) => ({ sessions: await sessions.listOwn(ctx(req)) }),
  );

  app.delete(
    '/v1/auth/sessions/:id',
    {
      schema: {
        operationId: 'revokeOwnSession',
        tags: ['auth'],
        summary: 'End one of the signed-in user’s sessions',
        description:
          'Revokes the session and its refresh tokens on every instance within a second (audited as `session.logged_out`). Another user’s session id answers 404.',
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        response: { 200: Type.Object({ success: Type.Boolean() }), ...errors(401, 403, 404) },
      },
    },
    async (req) => {
      await sessions.revokeOwn(ctx(req), req.params.id);
      return { success: true };
    },
  );
};
