import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ctx, errors } from '../../http/index.js';
import { LoginIdParam } from '../vault.schemas.js';
import type { VaultService } from '../vault.service.js';
import {
  Authentication,
  AuthenticationIdParam,
  AuthenticationStarted,
  GetCodeBody,
  GetCodeResponse,
  SubmitCodeBody,
  SubmitCodeResponse,
} from './runner.schemas.js';
import type { RunnerService } from './runner.service.js';

export interface RunnerRoutesDeps {
  runner: RunnerService;
  vault: VaultService;
}

const tags = ['vault'];

/** The login runner and Kaizen's authentication routes. Handlers translate HTTP to one service call. */
export const runnerRoutes: FastifyPluginAsyncTypebox<{ services: RunnerRoutesDeps }> = async (app, { services }) => {
  const { runner, vault } = services;

  app.post(
    '/logins/:id/authenticate',
    {
      config: { scopes: ['logins:write'] },
      schema: {
        operationId: 'authenticateLogin',
        tags,
        summary: 'Sign in to the login’s site (headless browser)',
        description:
          'Queues a sign-in by the login runner and answers at once; follow it with `GET /authentications/{authenticationId}`. 429 when the queue is full, 503 `vault.browser_unavailable` when Chromium is missing.',
        params: LoginIdParam,
        response: { 200: AuthenticationStarted, ...errors(401, 403, 404, 409, 429, 503) },
      },
    },
    async (req) => runner.authenticate(ctx(req), req.params.id),
  );

  app.get(
    '/authentications/:authenticationId',
    {
      config: { scopes: ['logins:write'] },
      schema: {
        operationId: 'getAuthentication',
        tags,
        summary: 'Follow a sign-in',
        description:
          'Its status (QUEUED, RUNNING, AWAITING_CODE, SUCCEEDED, FAILED, CANCELLED), the steps taken and the reason of a failure.',
        params: AuthenticationIdParam,
        response: { 200: Authentication, ...errors(401, 403, 404) },
      },
    },
    async (req) => runner.get(ctx(req), req.params.authenticationId),
  );

  app.delete(
    '/authentications/:authenticationId',
    {
      config: { scopes: ['logins:write'] },
      schema: {
        operationId: 'cancelAuthentication',
        tags,
        summary: 'Cancel a sign-in',
        description:
          'Cancels a queued or running sign-in (its browser is closed) and answers its final state; an ended one is answered as it is.',
        params: AuthenticationIdParam,
        response: { 200: Authentication, ...errors(401, 403, 404) },
      },
    },
    async (req) => runner.cancel(ctx(req), req.params.authenticationId),
  );

  app.get(
    '/authentications/:authenticationId/screenshot',
    {
      config: { scopes: ['logins:reveal'] },
      schema: {
        operationId: 'getAuthenticationScreenshot',
        tags,
        summary: 'The screenshot of a failed sign-in (PNG)',
        description: 'What the browser showed when the sign-in failed; kept sealed until it expires. Needs `logins:reveal`.',
        params: AuthenticationIdParam,
        response: { 200: Type.Unsafe<Buffer>({ type: 'string', format: 'binary' }), ...errors(401, 403, 404) },
      },
    },
    async (req, reply) =>
      reply
        .type('image/png')
        .header('cache-control', 'no-store')
        .send(await runner.screenshot(ctx(req), req.params.authenticationId)),
  );

  app.post(
    '/authentication/submitTwoFactorAuthCode',
    {
      config: { scopes: ['logins:write'] },
      schema: {
        operationId: 'submitTwoFactorAuthCode',
        tags,
        summary: 'Hand a second-factor code to a waiting sign-in (Kaizen)',
        description:
          'For an SMS or any other code the runner cannot fetch itself: the sign-in in `AWAITING_CODE` named by `authenticationId`, or the only one of the organization (or of `loginId`).',
        body: SubmitCodeBody,
        response: { 201: SubmitCodeResponse, ...errors(400, 401, 403, 404, 409, 415) },
      },
    },
    async (req, reply) => reply.code(201).send(await runner.submitCode(ctx(req), req.body)),
  );

  app.post(
    '/logins/twoFactorAuth/getCode',
    {
      config: { scopes: ['logins:read'] },
      schema: {
        operationId: 'getTwoFactorAuthCode',
        tags,
        summary: 'The current TOTP code of a login (Kaizen)',
        description: '`{loginId}` → `{code, secondsRemaining}` from the stored seed.',
        body: GetCodeBody,
        response: { 200: GetCodeResponse, ...errors(400, 401, 403, 404, 409, 415) },
      },
    },
    async (req) => {
      const { code, expiresAt } = await vault.totp(ctx(req), req.body.loginId);
      return { code, secondsRemaining: Math.max(0, Math.ceil((Date.parse(expiresAt) - Date.now()) / 1000)) };
    },
  );
};
