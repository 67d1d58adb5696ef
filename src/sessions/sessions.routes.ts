import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Config } from '../config/index.js';
import { AppError } from '../errors/index.js';
import type { CredentialVerifiers } from '../http/index.js';
import { ACCESS_COOKIE, ctx, errors, originAllowed, principalOf, REFRESH_COOKIE, registerLenientJsonParser } from '../http/index.js';
import { presentUser } from '../identity/index.js';
import type { AccountService, AccountView } from './account.service.js';
import { clearSessionCookies, setSessionCookies } from './cookies.js';
import {
  ChangePasswordBody,
  JwksResponse,
  LoginBody,
  LoginResponse,
  OkResponse,
  RefreshBody,
  UpdateMeBody,
  UserEnvelope,
} from './sessions.schemas.js';
import type { IssuedTokens, SessionsService } from './sessions.service.js';
import type { SigningKeyStore } from './signing-keys.js';

/** What the sessions routes use. */
export interface SessionsRoutesDeps {
  config: Config;
  sessions: SessionsService;
  account: AccountService;
  keys: SigningKeyStore;
  verifiers: CredentialVerifiers;
}

const OK = { success: true, code: 0 } as const;
const JSON_UTF8 = 'application/json; charset=utf-8';

const presentAccount = (v: AccountView) => presentUser(v.user, { apiKeys: v.apiKeys, settings: v.settings, extra: v.extra });

/** Why: a cookie-bearing request from another site must not sign in, rotate or end a session. */
function assertSameSite(req: FastifyRequest, services: SessionsRoutesDeps): void {
  if (!originAllowed(req, services.config)) throw new AppError('request.cross_site');
}

/** Token response in API mode (tokens in the body) or web mode (cookies, no token in the body). */
function tokenReply(
  req: FastifyRequest,
  reply: FastifyReply,
  services: SessionsRoutesDeps,
  web: boolean,
  tokens: IssuedTokens,
  userId: string,
) {
  if (web) {
    setSessionCookies(req, reply, services.config, tokens, userId);
    return { expiresIn: tokens.expiresIn };
  }
  return { token: tokens.token, expiresIn: tokens.expiresIn, refreshToken: tokens.refreshToken };
}

/**
 * The four Bytebase auth routes parse a JSON body whatever the content type (scripts use `curl -d`);
 * they live in their own scope with the lenient parser. `/v1/auth:exchangeToken` joins them from the federation domain.
 */
export const authRoutes: FastifyPluginAsyncTypebox<{ services: SessionsRoutesDeps }> = async (app, { services }) => {
  registerLenientJsonParser(app);
  // Why: no body at all (`curl -X POST`, a client's bodiless logout) never reaches a parser; it is `{}` here.
  app.addHook('preValidation', async (req) => {
    if (req.body === undefined || req.body === null) req.body = {};
  });
  const { sessions } = services;

  app.post(
    '/v1/auth/login',
    {
      config: { auth: 'optional', apiKeyOnly: true },
      schema: {
        operationId: 'login',
        tags: ['auth'],
        summary: 'Sign in (password, MFA step, or identity provider)',
        description:
          "Takes `username` or `email` with `password`. `web: true` answers cookies instead of tokens. An `x-api-key` narrows the sign-in to the key's organization; a Bearer header is ignored.",
        security: [],
        body: LoginBody,
        response: { 200: LoginResponse, ...errors(400, 401, 403, 429) },
      },
    },
    async (req, reply) => {
      const body = req.body;
      if (body.web) assertSameSite(req, services);
      const result = await sessions.login(ctx(req), body, req.principal?.organizationId);
      if (result.mfaTempToken) return { ...OK, message: 'Multi-factor authentication required', mfaTempToken: result.mfaTempToken };
      const tokens = result.tokens as IssuedTokens;
      return {
        ...OK,
        message: 'OK',
        ...tokenReply(req, reply, services, body.web === true, tokens, result.user.id),
        mfaTempToken: '',
        requireResetPassword: result.requireResetPassword,
        ...(result.restriction === 'mfa_enroll' ? { requireMfaEnrollment: true } : {}),
        user: presentUser(result.user),
      };
    },
  );

  app.post(
    '/v1/auth/refresh',
    {
      config: { auth: 'none' },
      schema: {
        operationId: 'refreshToken',
        tags: ['auth'],
        summary: 'Rotate a refresh token',
        description:
          'Body `{refreshToken}` for API clients, or `{}` with the `refresh-token` cookie (answers new cookies). A rotated token presented again revokes the session.',
        security: [],
        body: RefreshBody,
        response: { 200: LoginResponse, ...errors(401, 403) },
      },
    },
    async (req, reply) => {
      const fromBody = req.body.refreshToken;
      const fromCookie = req.cookies[REFRESH_COOKIE];
      const token = fromBody ?? fromCookie;
      if (!token) throw new AppError('auth.invalid_token', { detail: 'no refresh token' });
      const web = !fromBody || req.body.web === true;
      if (web) assertSameSite(req, services);
      try {
        const { user, tokens } = await sessions.refresh(ctx(req), token);
        return { ...OK, message: 'OK', ...tokenReply(req, reply, services, web, tokens, user.id), user: presentUser(user) };
      } catch (err) {
        if (web) clearSessionCookies(req, reply, services.config);
        throw err;
      }
    },
  );

  app.post(
    '/v1/auth/logout',
    {
      config: { auth: 'none' },
      schema: {
        operationId: 'logout',
        description:
          'Revokes the session of the Bearer access token or the `access-token`/`refresh-token` cookies, if any, and clears the cookies. No body is needed; without a session it still answers 200.',
        tags: ['auth'],
        summary: 'Sign out: revoke the session and clear the cookies (idempotent)',
        response: { 200: OkResponse, ...errors(403) },
      },
    },
    async (req, reply) => {
      const authz = req.headers.authorization;
      const bearer = typeof authz === 'string' && /^bearer\s+/i.test(authz) ? authz.replace(/^bearer\s+/i, '').trim() : undefined;
      const cookie = req.cookies[ACCESS_COOKIE];
      if ((cookie || req.cookies[REFRESH_COOKIE]) && !bearer) assertSameSite(req, services);
      const token = bearer ?? cookie;
      const principal = token ? await services.verifiers.accessToken(token, bearer ? 'bearer' : 'cookie') : undefined;
      await sessions.logout({ ...ctx(req), principal }, { sessionId: principal?.sessionId, refreshToken: req.cookies[REFRESH_COOKIE] });
      clearSessionCookies(req, reply, services.config);
      return { ...OK, message: 'Logged out' };
    },
  );
};

export const sessionRoutes: FastifyPluginAsyncTypebox<{ services: SessionsRoutesDeps }> = async (app, { services }) => {
  const { account, sessions, keys } = services;
  const serializedViews = new WeakMap<AccountView, ReturnType<FastifyReply['serialize']>>();

  app.get(
    '/v1/auth/user',
    {
      config: { allowRestricted: ['password_change', 'mfa_enroll'] },
      schema: {
        operationId: 'getCurrentUser',
        description:
          'The signed-in user with its API keys and settings. Also answers restricted sessions (password change or MFA enrolment pending).',
        tags: ['auth'],
        summary: 'The signed-in user (seed 001 shape)',
        response: { 200: UserEnvelope, ...errors(401) },
      },
    },
    async (req, reply) => {
      const view = await account.get(ctx(req));
      // Why: the hot path of every client. A cached view is the same object until it is dropped, so
      // its answer is serialized once (by this route's schema) and then sent as is.
      let body = serializedViews.get(view);
      if (body === undefined) {
        body = reply.serialize({ ...OK, message: 'OK', user: presentAccount(view) });
        serializedViews.set(view, body);
      }
      // The typed reply wants the schema's object; this body is that object, already serialized.
      return (reply as FastifyReply).type(JSON_UTF8).send(body);
    },
  );

  app.post(
    '/v1/auth/user',
    {
      config: { allowRestricted: ['mfa_enroll'] },
      schema: {
        operationId: 'updateCurrentUser',
        tags: ['auth'],
        summary: 'Update the signed-in user',
        description:
          'Seed 001 body `{user: {...}}`: profile fields and writable settings change; id, userName, roles, state, userType, apiKeys and timestamps are ignored. Seed 002 MFA fields (`regenerateTempMfaSecret`, `otpCode`, …) drive MFA enrolment.',
        body: UpdateMeBody,
        response: { 200: UserEnvelope, ...errors(400, 401, 403, 409) },
      },
    },
    async (req) => ({ ...OK, message: 'OK', user: presentAccount(await account.update(ctx(req), req.body)) }),
  );

  app.post(
    '/v1/auth/password',
    {
      config: { allowRestricted: ['password_change'] },
      schema: {
        operationId: 'changePassword',
        description:
          'Checks `currentPassword` (throttled like sign-in) and the password policy. Answers new tokens (or cookies for a browser session).',
        tags: ['auth'],
        summary: 'Change the password; revokes every session and answers a fresh one',
        body: ChangePasswordBody,
        response: { 200: LoginResponse, ...errors(400, 401, 403, 429) },
      },
    },
    async (req, reply) => {
      const web = principalOf(req).via === 'cookie';
      const { user, tokens } = await sessions.changePassword(ctx(req), req.body.currentPassword, req.body.newPassword);
      return {
        ...OK,
        message: 'Password changed',
        ...tokenReply(req, reply, services, web, tokens, user.id),
        requireResetPassword: false,
        user: presentUser(user),
      };
    },
  );

  app.get(
    '/.well-known/jwks.json',
    {
      config: { auth: 'none' },
      schema: {
        operationId: 'getJwks',
        description: 'RFC 7517 key set of the access-token signing keys (EdDSA); cacheable for 5 minutes.',
        tags: ['auth'],
        summary: 'Public keys that verify access tokens',
        security: [],
        response: { 200: JwksResponse },
      },
    },
    async (_req, reply) => {
      reply.header('cache-control', 'public, max-age=300');
      return keys.jwks();
    },
  );

  app.get(
    '/.well-known/openid-configuration',
    {
      config: { auth: 'none' },
      schema: {
        operationId: 'getOpenIdConfiguration',
        summary: 'Discovery metadata',
        description: 'The issuer and where its keys are. Portcullis is not (yet) an OpenID Provider: only what exists is listed.',
        tags: ['auth'],
        security: [],
        response: { 200: Type.Record(Type.String(), Type.Unknown()) },
      },
    },
    // Why only these: Portcullis is not (yet) an OpenID Provider. It has no authorization endpoint, no
    // OAuth token endpoint (`/v1/auth/login` takes Portcullis JSON) and issues no ID tokens; a client
    // library reading more would try flows that do not exist. What is true: who issues the access
    // tokens and where their keys are.
    async () => ({
      issuer: services.config.publicUrl,
      jwks_uri: `${services.config.publicUrl}/.well-known/jwks.json`,
      access_token_signing_alg_values_supported: ['EdDSA'],
    }),
  );
};
