import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ctx, errors } from '../../http/index.js';
import { LoginIdParam } from '../vault.schemas.js';
import type { VaultService } from '../vault.service.js';
import type { LiveSessions, LiveSessionView } from './live.js';
import {
  AuthenticateBody,
  Authentication,
  AuthenticationIdParam,
  AuthenticationStarted,
  BrowserSession,
  BrowserSessionIdParam,
  CompleteLoginBody,
  CompleteLoginResponse,
  GetCodeBody,
  GetCodeResponse,
  OpenBrowserSessionBody,
  SubmitCodeBody,
  SubmitCodeResponse,
} from './runner.schemas.js';
import type { RunnerService } from './runner.service.js';

export interface RunnerRoutesDeps {
  runner: RunnerService;
  vault: VaultService;
  live: LiveSessions;
}

const tags = ['vault'];

/** The login runner and Kaizen's authentication routes. Handlers translate HTTP to one service call. */
export const runnerRoutes: FastifyPluginAsyncTypebox<{ services: RunnerRoutesDeps }> = async (app, { services }) => {
  const { runner, vault, live } = services;
  /** The options body of these routes may be left out entirely (Kaizen's clients send none). */
  const optionalBody = async (req: { body: unknown }) => {
    if (req.body === undefined || req.body === null) req.body = {};
  };
  /** The session with its CDP URL on the host and scheme the caller used. */
  const withUrl = (req: { protocol: string; host: string }, v: LiveSessionView) => {
    const { cdpPath, ...rest } = v;
    return { ...rest, cdpUrl: `${req.protocol === 'https' ? 'wss' : 'ws'}://${req.host}${cdpPath}` };
  };

  app.post(
    '/logins/:id/browser-sessions',
    {
      preValidation: optionalBody,
      config: { scopes: ['logins:reveal'] },
      schema: {
        operationId: 'openBrowserSession',
        tags,
        summary: 'Open a live signed-in browser session (CDP)',
        description:
          'Starts a Chromium for the login, signs it in (the stored session first) — or, for `isManualAuthentication` logins, opens the sign-in page for a person — and keeps it open. Connect with `chromium.connectOverCDP(cdpUrl, { headers: { "x-api-key": <key> } })`. Needs `logins:reveal`: a signed-in browser is a credential.',
        params: LoginIdParam,
        body: OpenBrowserSessionBody,
        response: { 201: BrowserSession, ...errors(400, 401, 403, 404, 409, 415, 429, 503) },
      },
    },
    async (req, reply) => reply.code(201).send(withUrl(req, await live.open(ctx(req), req.params.id, req.body))),
  );

  app.get(
    '/browser-sessions/:browserSessionId',
    {
      config: { scopes: ['logins:reveal'] },
      schema: {
        operationId: 'getBrowserSession',
        tags,
        summary: 'Read a live browser session',
        description: 'Its status, CDP URL and expiry.',
        params: BrowserSessionIdParam,
        response: { 200: BrowserSession, ...errors(401, 403, 404) },
      },
    },
    async (req) => withUrl(req, live.get(ctx(req), req.params.browserSessionId)),
  );

  app.delete(
    '/browser-sessions/:browserSessionId',
    {
      config: { scopes: ['logins:reveal'] },
      schema: {
        operationId: 'closeBrowserSession',
        tags,
        summary: 'Close a live browser session',
        description: 'Closes its Chromium; connected CDP clients are disconnected.',
        params: BrowserSessionIdParam,
        response: { 200: Type.Object({ success: Type.Boolean() }), ...errors(401, 403, 404) },
      },
    },
    async (req) => {
      await live.close(ctx(req), req.params.browserSessionId);
      return { success: true };
    },
  );

  app.post(
    '/authentication/completeLogin',
    {
      config: { scopes: ['logins:reveal'] },
      schema: {
        operationId: 'completeLogin',
        tags,
        summary: 'Save the state of a live session a person signed in (Kaizen)',
        description:
          '`{contextAuthenticationId}` names a live browser session; its cookies and storage are sealed into the login’s stored session (the login must have `persistSession: true`).',
        body: CompleteLoginBody,
        response: { 200: CompleteLoginResponse, ...errors(400, 401, 403, 404, 409, 415) },
      },
    },
    async (req) => live.complete(ctx(req), req.body.contextAuthenticationId),
  );

  app.post(
    '/logins/:id/authenticate',
    {
      preValidation: optionalBody,
      config: { scopes: ['logins:write'] },
      schema: {
        operationId: 'authenticateLogin',
        tags,
        summary: 'Sign in to the login’s site (headless browser)',
        description:
          'Queues a sign-in by the login runner and answers at once; follow it with `GET /authentications/{authenticationId}`. 429 when the queue is full, 503 `vault.browser_unavailable` when Chromium is missing.',
        params: LoginIdParam,
        body: AuthenticateBody,
        response: { 200: AuthenticationStarted, ...errors(400, 401, 403, 404, 409, 415, 429, 503) },
      },
    },
    async (req) => runner.authenticate(ctx(req), req.params.id, req.body),
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
        response: {
          200: { description: 'The screenshot', content: { 'image/png': { schema: { type: 'string', format: 'binary' } } } },
          ...errors(401, 403, 404),
        },
      },
    },
    async (req, reply) =>
      reply
        .type('image/png')
        .header('cache-control', 'no-store')
        // A Buffer is sent as it is (never serialized); the cast only quiets the schema-derived reply type.
        .send((await runner.screenshot(ctx(req), req.params.authenticationId)) as unknown as string),
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
