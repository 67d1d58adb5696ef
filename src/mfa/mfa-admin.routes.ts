import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ctx, errors } from '../http/index.js';
import { presentUser } from '../identity/index.js';
import type { MfaService } from './mfa.service.js';

/** Administration of another account's second factors. */
export const mfaAdminRoutes: FastifyPluginAsyncTypebox<{ services: { mfa: MfaService } }> = async (app, { services }) => {
  app.post(
    '/v1/users/:id/mfa/reset',
    {
      config: { scopes: ['users:write'] },
      schema: {
        operationId: 'resetUserMfa',
        tags: ['admin'],
        summary: "Reset a user's MFA",
        description:
          "Removes the user's TOTP secret, recovery codes, pending MFA sign-ins and passkeys, and mails the user. Policy `user.reset_mfa`: owners and admins acting on a lower rank, never on their own account (which goes through `/v1/auth/user`). Another organization's user answers 404. Audited as `mfa.reset`.",
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        body: Type.Optional(Type.Object({}, { additionalProperties: false })),
        response: { 200: Type.Ref('User'), ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => presentUser(await services.mfa.resetMfa(ctx(req), req.params.id)),
  );
};
