import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Config } from '../config/index.js';
import { ctx, errors, registerLenientJsonParser } from '../http/index.js';
import type { LoginSeams, SessionsService } from '../sessions/index.js';
import { setSessionCookies } from '../sessions/index.js';
import {
  AuthorizeQuery,
  CallbackQuery,
  CreateIdpBody,
  CreateIdpQuery,
  ExchangeTokenBody,
  ExchangeTokenResponse,
  IdpParams,
  IdpSchema,
  ListIdpsQuery,
  ListIdpsResponse,
  UpdateIdpBody,
} from './idps.schemas.js';
import type { IdpsService } from './idps.service.js';
import type { WorkloadService } from './workload/workload.service.js';

/** What the federation routes use. */
export interface FederationRoutesDeps {
  config: Config;
  idps: IdpsService;
  workload: WorkloadService;
  sessions: SessionsService;
  loginSeams: LoginSeams;
}

/** Binds a browser flow to the browser that started it (login-CSRF defence); scoped to the callback path. */
export const FLOW_COOKIE = 'idp-flow';
const CALLBACK_PATH = '/oauth/callback';

const secure = (req: FastifyRequest, services: FederationRoutesDeps) =>
  services.config.publicUrl.startsWith('https:') || req.protocol === 'https';

function clearFlowCookie(req: FastifyRequest, reply: FastifyReply, services: FederationRoutesDeps): void {
  reply.setCookie(FLOW_COOKIE, '', {
    path: CALLBACK_PATH,
    httpOnly: true,
    sameSite: 'lax',
    secure: secure(req, services),
    expires: new Date(0),
  });
}

/** Identity providers: administration (`idps:write`), the public list, and the browser sign-in flow. */
export const idpRoutes: FastifyPluginAsyncTypebox<{ services: FederationRoutesDeps }> = async (app, { services }) => {
  const { idps, sessions, loginSeams } = services;

  app.post(
    '/v1/idps',
    {
      config: { scopes: ['idps:write'] },
      schema: {
        operationId: 'createIdp',
        tags: ['idps'],
        summary: 'Create an identity provider (OIDC or OAuth2)',
        description:
          'The id comes from `identityProviderId` in the body or the query, or is generated. `clientSecret` is stored encrypted and never returned (`clientSecretSet` says one is set).',
        querystring: CreateIdpQuery,
        body: CreateIdpBody,
        response: { 201: IdpSchema, ...errors(400, 401, 403, 409) },
      },
    },
    async (req, reply) => reply.code(201).send(await idps.create(ctx(req), req.body, req.query.identityProviderId)),
  );

  app.get(
    '/v1/idps',
    {
      config: { auth: 'optional' },
      schema: {
        operationId: 'listIdps',
        tags: ['idps'],
        summary: 'List identity providers',
        description:
          'Without credentials: every provider’s `name`, `id`, `title`, `type` and `domain` (for a login page), filtered by `domain` or `organizationId`. With `idps:write`: the caller’s organization with configs (never secrets).',
        security: [],
        querystring: ListIdpsQuery,
        response: { 200: ListIdpsResponse, ...errors(401) },
      },
    },
    async (req) => ({ identityProviders: await idps.list(ctx(req), req.query) }),
  );

  app.get(
    '/v1/idps/:id',
    {
      config: { scopes: ['idps:write'] },
      schema: {
        operationId: 'getIdp',
        summary: 'Read an identity provider',
        description: 'With its config, never its client secret. A provider of another organization is a 404.',
        tags: ['idps'],
        params: IdpParams,
        response: { 200: IdpSchema, ...errors(401, 403, 404) },
      },
    },
    async (req) => idps.get(ctx(req), req.params.id),
  );

  app.patch(
    '/v1/idps/:id',
    {
      config: { scopes: ['idps:write'] },
      schema: {
        operationId: 'updateIdp',
        tags: ['idps'],
        summary: 'Update an identity provider',
        description: 'Config fields merge into the stored config; an absent `clientSecret` keeps the stored one. The type cannot change.',
        params: IdpParams,
        body: UpdateIdpBody,
        response: { 200: IdpSchema, ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => idps.update(ctx(req), req.params.id, req.body),
  );

  app.delete(
    '/v1/idps/:id',
    {
      config: { scopes: ['idps:write'] },
      schema: {
        operationId: 'deleteIdp',
        description: 'Users who signed in through it stay; their links to it are removed.',
        tags: ['idps'],
        summary: 'Delete an identity provider and its links (users stay)',
        params: IdpParams,
        response: { 200: Type.Object({ success: Type.Boolean() }), ...errors(401, 403, 404) },
      },
    },
    async (req) => {
      await idps.remove(ctx(req), req.params.id);
      return { success: true };
    },
  );

  app.get(
    '/v1/idps/:id/authorize',
    {
      config: { auth: 'none' },
      schema: {
        operationId: 'startIdpSignIn',
        tags: ['idps'],
        summary: 'Start a browser sign-in: redirects to the provider (state, PKCE S256, nonce)',
        description: '`returnTo` must be under `PORTCULLIS_ALLOWED_RETURN_URLS` (default: the public URL); otherwise 400, no redirect.',
        security: [],
        params: IdpParams,
        querystring: AuthorizeQuery,
        response: { 302: Type.Null(), ...errors(400, 404, 503) },
      },
    },
    async (req, reply) => {
      const { url, state, ttlSeconds } = await idps.startAuthorization(ctx(req), req.params.id, req.query.returnTo);
      reply.setCookie(FLOW_COOKIE, state, {
        path: CALLBACK_PATH,
        httpOnly: true,
        sameSite: 'lax',
        secure: secure(req, services),
        maxAge: ttlSeconds,
      });
      reply.header('cache-control', 'no-store');
      return reply.redirect(url, 302);
    },
  );

  app.get(
    CALLBACK_PATH,
    {
      config: { auth: 'none' },
      schema: {
        operationId: 'completeIdpSignIn',
        tags: ['idps'],
        summary: 'Browser sign-in callback: sets the session cookies and redirects to `returnTo`',
        description:
          'With MFA enabled the redirect carries `#mfaTempToken=…` in the fragment instead of cookies; the page completes with `POST /v1/auth/login {mfaTempToken, otpCode, web: true}`.',
        security: [],
        querystring: CallbackQuery,
        response: { 302: Type.Null(), ...errors(400, 401, 403, 503) },
      },
    },
    async (req, reply) => {
      const context = ctx(req);
      clearFlowCookie(req, reply, services);
      reply.header('cache-control', 'no-store');
      const { user, returnTo } = await idps.completeAuthorization(context, req.query, req.cookies[FLOW_COOKIE]);
      const second = loginSeams.secondFactor ? await loginSeams.secondFactor(context, user, { web: true }) : undefined;
      if (second && 'mfaTempToken' in second) {
        const target = new URL(returnTo);
        target.hash = new URLSearchParams({ mfaTempToken: second.mfaTempToken }).toString();
        return reply.redirect(target.toString(), 302);
      }
      const result = await sessions.completeSignIn(context, user, { web: true }, 'idp');
      if (result.tokens) setSessionCookies(req, reply, services.config, result.tokens, user.id);
      return reply.redirect(returnTo, 302);
    },
  );
};

/**
 * `POST /v1/auth:exchangeToken` (Bytebase's workload identity exchange). Like the other auth
 * routes its body is JSON whatever the content type: GitHub Actions examples use `curl -d`.
 */
export const exchangeTokenRoutes: FastifyPluginAsyncTypebox<{ services: FederationRoutesDeps }> = async (app, { services }) => {
  registerLenientJsonParser(app);
  app.post(
    '/v1/auth::exchangeToken',
    {
      config: { auth: 'none' },
      schema: {
        operationId: 'exchangeToken',
        tags: ['auth'],
        summary: 'Exchange a workload OIDC token (GitHub Actions, GitLab CI, …) for an access token',
        description:
          'The token must come from the identity’s issuer (discovery + JWKS), carry an `aud` in `allowedAudiences` and a `sub` matching `subjectPattern` (exact, or a prefix ending in `*`), and be unexpired. Unknown identity: 404; failed validation: 401. No refresh token.',
        security: [],
        body: ExchangeTokenBody,
        response: { 200: ExchangeTokenResponse, ...errors(400, 401, 404, 429, 503) },
      },
    },
    async (req) => services.workload.exchange(ctx(req), req.body),
  );
};
