import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Config } from '../../config/index.js';
import { AppError } from '../../errors/index.js';
import { ctx, errors, originAllowed } from '../../http/index.js';
import { presentUser } from '../../identity/index.js';
import { type SessionsService, setSessionCookies } from '../../sessions/index.js';
import {
  AuthenticatePasskeyBody,
  AuthenticationOptionsBody,
  AuthenticationOptionsResponse,
  AuthenticationResponseBody,
  PasskeyIdParam,
  PasskeyList,
  PasskeySchema,
  RegisterPasskeyBody,
  RegistrationOptionsResponse,
  RegistrationResponseBody,
  RenamePasskeyBody,
} from './passkeys.schemas.js';
import type { PasskeysService } from './passkeys.service.js';

export interface PasskeyRoutesDeps {
  config: Config;
  passkeys: PasskeysService;
  sessions: SessionsService;
}

const tags = ['auth'];
const PasskeyLoginResponse = Type.Object({
  success: Type.Boolean(),
  code: Type.Integer(),
  message: Type.String(),
  token: Type.Optional(Type.String()),
  expiresIn: Type.Optional(Type.Integer({ description: 'seconds' })),
  refreshToken: Type.Optional(Type.String()),
  requireResetPassword: Type.Optional(Type.Boolean()),
  requireMfaEnrollment: Type.Optional(Type.Boolean()),
  user: Type.Optional(Type.Ref('User')),
});

/** Passkeys: the signed-in user's own (register, list, rename, remove) and sign-in with one. */
export const passkeyRoutes: FastifyPluginAsyncTypebox<{ services: PasskeyRoutesDeps }> = async (app, { services }) => {
  const { passkeys, sessions, config } = services;
  app.addSchema(RegistrationResponseBody);
  app.addSchema(AuthenticationResponseBody);
  app.addSchema(PasskeySchema);

  app.get(
    '/v1/auth/passkeys',
    {
      schema: {
        operationId: 'listPasskeys',
        tags,
        summary: "List the signed-in user's passkeys",
        description: 'Names, device type, transports, creation and last use. Nothing secret is stored (public keys only).',
        response: { 200: PasskeyList, ...errors(401, 403) },
      },
    },
    async (req) => ({ passkeys: await passkeys.list(ctx(req)) }),
  );

  app.post(
    '/v1/auth/passkeys/registration-options',
    {
      schema: {
        operationId: 'startPasskeyRegistration',
        tags,
        summary: 'Start registering a passkey',
        description:
          'Answers `PublicKeyCredentialCreationOptionsJSON` for `navigator.credentials.create()` (a discoverable credential, attestation `none`). The challenge is valid 5 minutes, once. Needs an interactive session (policy `self.manage_passkeys`): never an API key.',
        body: Type.Object({}, { additionalProperties: false }),
        response: { 200: RegistrationOptionsResponse, ...errors(400, 401, 403) },
      },
    },
    async (req) => ({ options: (await passkeys.registrationOptions(ctx(req))) as unknown as Record<string, unknown> }),
  );

  app.post(
    '/v1/auth/passkeys',
    {
      schema: {
        operationId: 'registerPasskey',
        tags,
        summary: 'Finish registering a passkey',
        description:
          "Verifies the browser's registration response against the pending challenge, the public URL's origin and RP ID, and stores the credential's public key and counter. Audited as `mfa.passkey_registered`.",
        body: RegisterPasskeyBody,
        response: { 201: Type.Ref('Passkey'), ...errors(400, 401, 403, 409) },
      },
    },
    async (req, reply) => reply.code(201).send(await passkeys.register(ctx(req), req.body as never)),
  );

  app.patch(
    '/v1/auth/passkeys/:id',
    {
      schema: {
        operationId: 'renamePasskey',
        tags,
        summary: 'Rename a passkey',
        description: "Only the signed-in user's own passkeys; another id answers 404.",
        params: PasskeyIdParam,
        body: RenamePasskeyBody,
        response: { 200: Type.Ref('Passkey'), ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => passkeys.rename(ctx(req), req.params.id, req.body.name),
  );

  app.delete(
    '/v1/auth/passkeys/:id',
    {
      schema: {
        operationId: 'removePasskey',
        tags,
        summary: 'Remove a passkey',
        description: "Only the signed-in user's own passkeys; another id answers 404. Audited as `mfa.passkey_removed`.",
        params: PasskeyIdParam,
        response: { 200: Type.Object({ success: Type.Boolean() }), ...errors(401, 403, 404) },
      },
    },
    async (req) => {
      await passkeys.remove(ctx(req), req.params.id);
      return { success: true };
    },
  );

  app.post(
    '/v1/auth/passkeys/authentication-options',
    {
      config: { auth: 'none' },
      schema: {
        operationId: 'startPasskeySignIn',
        tags,
        summary: 'Start signing in with a passkey',
        description:
          "Without a body field: options for a passwordless sign-in (any discoverable passkey, user verification required). With the `mfaTempToken` of a password sign-in: options naming that user's passkeys, as the second step. Answers a single-use `flowId` (5 minutes) for the verification request.",
        security: [],
        body: AuthenticationOptionsBody,
        response: { 200: AuthenticationOptionsResponse, ...errors(400, 401, 429) },
      },
    },
    async (req) => {
      const { flowId, options } = await passkeys.authenticationOptions(ctx(req), req.body);
      return { flowId, options: options as unknown as Record<string, unknown> };
    },
  );

  app.post(
    '/v1/auth/passkeys/authentication',
    {
      config: { auth: 'none' },
      schema: {
        operationId: 'signInWithPasskey',
        tags,
        summary: 'Sign in with a passkey',
        description:
          "Verifies the assertion (challenge, origin, RP ID, signature, counter). Passwordless, or with the `mfaTempToken` as the second step. `web: true` answers cookies like `POST /v1/auth/login`. A counter that does not advance marks the passkey as cloned (`mfa.passkey_clone_suspected`) and refuses it from then on. Failures answer one generic 401 and count toward the address's throttle.",
        security: [],
        body: AuthenticatePasskeyBody,
        response: { 200: PasskeyLoginResponse, ...errors(400, 401, 403, 429) },
      },
    },
    async (req, reply) => {
      const body = req.body;
      if (body.web && !originAllowed(req, config)) throw new AppError('request.cross_site');
      const context = ctx(req);
      const { user, method } = await passkeys.authenticate(context, body as never);
      const result = await sessions.completeSignIn(context, user, { web: body.web === true }, method);
      const tokens = result.tokens;
      if (!tokens) throw new AppError('auth.invalid_credentials', { detail: 'no session issued' });
      const common = {
        success: true,
        code: 0,
        message: 'OK',
        requireResetPassword: result.requireResetPassword,
        ...(result.restriction === 'mfa_enroll' ? { requireMfaEnrollment: true } : {}),
        user: presentUser(result.user),
      };
      if (body.web) {
        setSessionCookies(req, reply, config, tokens, user.id);
        return { ...common, expiresIn: tokens.expiresIn };
      }
      return { ...common, token: tokens.token, expiresIn: tokens.expiresIn, refreshToken: tokens.refreshToken };
    },
  );
};
