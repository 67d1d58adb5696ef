import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AuditService } from '../audit/index.js';
import type { Config } from '../config/index.js';
import { AppError } from '../errors/index.js';
import { ACCESS_COOKIE, type CredentialVerifiers, ctx, errors, originAllowed } from '../http/index.js';
import type { LoginResult, SessionsService } from '../sessions/index.js';
import { setSessionCookies } from '../sessions/index.js';
import type { RateLimit } from '../state/index.js';
import type { ConsentsRepo } from './clients.repo.js';
import {
  ConsentList,
  CreatedOauthClient,
  CreateOauthClientBody,
  OauthClientList,
  OauthClientParams,
  OauthClientSchema,
  UpdateOauthClientBody,
} from './clients.schemas.js';
import type { ClientsService } from './clients.service.js';
import { consentPage, loginPage, messagePage, mfaPage, PAGE_CSP } from './pages.js';
import { asIssuer, INTERACTION_PREFIX, OIDC_ROUTES, PROVIDER_PATHS, type ProviderHolder } from './provider.js';

export interface OidcRoutesDeps {
  config: Config;
  holder: ProviderHolder;
  clients: ClientsService;
  consents: ConsentsRepo;
  sessions: SessionsService;
  audit: AuditService;
  verifiers: () => CredentialVerifiers;
  tokenLimit: RateLimit | undefined;
}

/** The largest form the provider reads (oidc-provider's own limit). */
const FORM_LIMIT = 56 * 1024;

/** The client a token request names: HTTP Basic user, else the `client_id` form field. */
function tokenClientId(req: FastifyRequest, body: Buffer | undefined): string | undefined {
  const authz = req.headers.authorization;
  if (typeof authz === 'string' && /^basic\s+/i.test(authz)) {
    const decoded = Buffer.from(authz.replace(/^basic\s+/i, ''), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) {
      try {
        return decodeURIComponent(decoded.slice(0, colon));
      } catch {
        return decoded.slice(0, colon);
      }
    }
  }
  if (body && body.length > 0) return new URLSearchParams(body.toString('utf8')).get('client_id') ?? undefined;
  return undefined;
}

/**
 * The provider's endpoints, handed to oidc-provider untouched: Fastify reads the body (bounded) and
 * leaves the answer to the provider (RFC 6749 / OIDC error bodies). Public as far as our guard goes:
 * the provider authenticates clients and people itself. Hidden from the OpenAPI document.
 */
export const providerRoutes: FastifyPluginAsyncTypebox<{ services: OidcRoutesDeps }> = async (app, { services }) => {
  const { holder, tokenLimit } = services;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: FORM_LIMIT }, (_req, body, done) => done(null, body));

  for (const { url, methods } of PROVIDER_PATHS) {
    app.route({
      method: methods,
      url,
      config: { auth: 'none' },
      schema: { hide: true },
      handler: async (req, reply) => {
        const body = Buffer.isBuffer(req.body) ? req.body : undefined;
        if (url === OIDC_ROUTES.token && req.method === 'POST' && tokenLimit) {
          const clientId = tokenClientId(req, body);
          if (clientId) {
            const verdict = await tokenLimit.consume(clientId.slice(0, 256));
            if (!verdict.allowed) {
              return reply
                .code(429)
                .header('retry-after', String(verdict.retryAfterSeconds))
                .header('cache-control', 'no-store')
                .send({ error: 'temporarily_unavailable', error_description: 'too many token requests for this client' });
            }
          }
        }
        // oidc-provider reads `req.body` when the stream was already read.
        if (body) Object.assign(req.raw, { body });
        asIssuer(req.raw, services.config.publicUrl, req.ip);
        reply.hijack();
        holder.current().callback(req.raw, reply.raw);
      },
    });
  }
};

const Uid = Type.Object({ uid: Type.String({ minLength: 1, maxLength: 128, pattern: '^[\\w-]+$' }) });
const LoginForm = Type.Object(
  { username: Type.String({ minLength: 1, maxLength: 320 }), password: Type.String({ minLength: 1, maxLength: 1024 }) },
  { additionalProperties: false },
);
const MfaForm = Type.Object(
  { mfaTempToken: Type.String({ minLength: 1, maxLength: 512 }), code: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
);
const ConsentForm = Type.Object({ decision: Type.Union([Type.Literal('allow'), Type.Literal('deny')]) }, { additionalProperties: false });
const Html = Type.String({ description: 'An HTML page.' });

function html(reply: FastifyReply, body: string, status = 200) {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('content-security-policy', PAGE_CSP)
    .send(body);
}

/**
 * The interaction pages: sign-in (password, then the MFA step), consent, and the single sign-on of a
 * person already signed in to Portcullis. Minimal server-rendered HTML until the web UI replaces it.
 */
export const interactionRoutes: FastifyPluginAsyncTypebox<{ services: OidcRoutesDeps }> = async (app, { services }) => {
  const { holder, sessions, config } = services;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_req, body, done) => {
    const form: Record<string, string> = Object.create(null);
    for (const [k, v] of new URLSearchParams(String(body))) if (!(k in form)) form[k] = v;
    done(null, form);
  });

  const provider = () => holder.current().provider;
  app.addHook('onRequest', async (req) => {
    asIssuer(req.raw, config.publicUrl, req.ip);
  });
  const action = (uid: string, step: string) => `${INTERACTION_PREFIX}/${uid}/${step}`;

  async function details(req: FastifyRequest, reply: FastifyReply) {
    try {
      return await provider().interactionDetails(req.raw, reply.raw);
    } catch {
      return undefined;
    }
  }

  async function clientName(clientId: string): Promise<string> {
    return (await services.clients.findById(clientId))?.name ?? clientId;
  }

  /** Finishes the interaction: the redirect back to the provider, which resumes the authorization. */
  async function finish(req: FastifyRequest, reply: FastifyReply, result: Record<string, unknown>) {
    const to: string = await provider().interactionResult(req.raw, reply.raw, result, { mergeWithLastSubmission: false });
    return reply.header('cache-control', 'no-store').redirect(to, 303);
  }

  async function loginResult(clientId: string, userId: string, amr: string[]) {
    const acr = (await services.clients.findById(clientId))?.acr;
    return { login: { accountId: userId, amr, remember: true, ...(acr ? { acr } : {}) } };
  }

  /** A finished Portcullis sign-in: organization rules, then the Portcullis session cookies and the login result. */
  async function signedIn(req: FastifyRequest, reply: FastifyReply, interaction: any, result: LoginResult, amr: string[]) {
    if (result.restriction || !result.tokens) {
      const message =
        result.restriction === 'mfa_enroll'
          ? 'Your organization requires two-step verification. Set it up in Portcullis, then sign in again.'
          : 'You must change your password in Portcullis before signing in to applications.';
      return html(reply, messagePage('Action required', message), 403);
    }
    setSessionCookies(req, reply, config, result.tokens, result.user.id);
    return finish(req, reply, await loginResult(interaction.params.client_id, result.user.id, amr));
  }

  const loginError = (err: unknown): string => {
    if (err instanceof AppError && err.code === 'rate.limited') return 'Too many attempts. Wait a moment and try again.';
    if (err instanceof AppError && err.code === 'auth.web_login_not_allowed') return 'This account cannot sign in here.';
    return 'Invalid user name or password.';
  };

  /** Saves the grant the consent prompt asked for, remembers it for the person and the client, and records it. */
  async function grantConsent(req: FastifyRequest, interaction: any): Promise<string> {
    const { params, session, prompt } = interaction;
    const p = provider();
    const accountId: string = session.accountId;
    let grant = interaction.grantId ? await p.Grant.find(interaction.grantId) : undefined;
    grant ??= new p.Grant({ accountId, clientId: params.client_id });
    const missing = prompt.details ?? {};
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, (scopes as string[]).join(' '));
    }
    const grantId: string = await grant.save();
    const scope = String(grant.getOIDCScope?.() ?? '');
    const now = new Date().toISOString();
    await services.consents.upsert({ userId: accountId, clientId: params.client_id, grantId, scope, now });
    const client = await services.clients.findById(params.client_id);
    await services.audit.record(ctx(req), {
      action: 'oauth.consent_given',
      organizationId: client?.organizationId ?? null,
      targetType: 'oauth_client',
      targetId: params.client_id,
      actor: { type: 'user', id: accountId },
      data: { scope },
    });
    return grantId;
  }

  const pageSchema = (summary: string) => ({
    hide: true,
    summary,
    params: Uid,
    response: { 200: Html, 303: Type.Null(), 401: Html, 403: Html, 404: Html },
  });

  app.get(`${INTERACTION_PREFIX}/:uid`, { config: { auth: 'none' }, schema: pageSchema('Sign-in or consent page') }, async (req, reply) => {
    const interaction = await details(req, reply);
    if (!interaction || interaction.uid !== req.params.uid)
      return html(reply, messagePage('Sign-in expired', 'Go back to the application and start again.'), 404);
    const { prompt, params } = interaction;
    if (prompt.name === 'login') {
      // Single sign-on: a person signed in to Portcullis in this browser is not asked again, unless the
      // application asks for a fresh sign-in (prompt=login, max_age, a different login_hint).
      const reasons: string[] = prompt.reasons ?? [];
      const cookie = req.cookies[ACCESS_COOKIE];
      if (cookie && reasons.every((r) => r === 'no_session') && params.max_age === undefined) {
        const principal = await services.verifiers().accessToken(cookie, 'cookie');
        if (principal && principal.kind === 'user' && !principal.restriction) {
          return finish(req, reply, await loginResult(params.client_id, principal.userId, ['pwd']));
        }
      }
      return html(
        reply,
        loginPage({
          action: action(req.params.uid, 'login'),
          clientName: await clientName(params.client_id),
          loginHint: typeof params.login_hint === 'string' ? params.login_hint.slice(0, 320) : undefined,
        }),
      );
    }
    // A first-party application is allowed without asking, even when it asks to ask (prompt=consent, offline_access).
    const client = await services.clients.findById(params.client_id);
    if (client?.firstParty) return finish(req, reply, { consent: { grantId: await grantConsent(req, interaction) } });
    const missing = prompt.details ?? {};
    const scopes: string[] = [...(missing.missingOIDCScope ?? [])];
    for (const list of Object.values(missing.missingResourceScopes ?? {})) scopes.push(...(list as string[]));
    return html(reply, consentPage({ action: action(req.params.uid, 'consent'), clientName: client?.name ?? params.client_id, scopes }));
  });

  app.post(
    `${INTERACTION_PREFIX}/:uid/login`,
    { config: { auth: 'none' }, schema: { ...pageSchema('Sign in with a password'), body: LoginForm } },
    async (req, reply) => {
      if (!originAllowed(req, config)) return html(reply, messagePage('Refused', 'Cross-site requests are not allowed.'), 403);
      const interaction = await details(req, reply);
      if (!interaction || interaction.uid !== req.params.uid || interaction.prompt.name !== 'login') {
        return html(reply, messagePage('Sign-in expired', 'Go back to the application and start again.'), 404);
      }
      const id = req.body.username.trim();
      const render = async (error: string) =>
        html(
          reply,
          loginPage({
            action: action(req.params.uid, 'login'),
            clientName: await clientName(interaction.params.client_id),
            loginHint: id,
            error,
          }),
          401,
        );
      let result: LoginResult;
      try {
        result = await sessions.login(ctx(req), {
          ...(id.includes('@') ? { email: id } : { username: id }),
          password: req.body.password,
          web: true,
        });
      } catch (err) {
        return render(loginError(err));
      }
      if (result.mfaTempToken) return html(reply, mfaPage({ action: action(req.params.uid, 'mfa'), mfaTempToken: result.mfaTempToken }));
      return signedIn(req, reply, interaction, result, ['pwd']);
    },
  );

  app.post(
    `${INTERACTION_PREFIX}/:uid/mfa`,
    { config: { auth: 'none' }, schema: { ...pageSchema('Complete the two-step verification'), body: MfaForm } },
    async (req, reply) => {
      if (!originAllowed(req, config)) return html(reply, messagePage('Refused', 'Cross-site requests are not allowed.'), 403);
      const interaction = await details(req, reply);
      if (!interaction || interaction.uid !== req.params.uid || interaction.prompt.name !== 'login') {
        return html(reply, messagePage('Sign-in expired', 'Go back to the application and start again.'), 404);
      }
      const code = req.body.code.trim();
      let result: LoginResult;
      try {
        result = await sessions.login(ctx(req), {
          mfaTempToken: req.body.mfaTempToken,
          web: true,
          ...(/^\d{6}$/.test(code) ? { otpCode: code } : { recoveryCode: code }),
        });
      } catch (err) {
        const message = err instanceof AppError && err.code === 'rate.limited' ? loginError(err) : 'The code is not valid. Try again.';
        return html(reply, mfaPage({ action: action(req.params.uid, 'mfa'), mfaTempToken: req.body.mfaTempToken, error: message }), 401);
      }
      return signedIn(req, reply, interaction, result, ['pwd', 'otp']);
    },
  );

  app.post(
    `${INTERACTION_PREFIX}/:uid/consent`,
    { config: { auth: 'none' }, schema: { ...pageSchema('Allow or deny an application'), body: ConsentForm } },
    async (req, reply) => {
      if (!originAllowed(req, config)) return html(reply, messagePage('Refused', 'Cross-site requests are not allowed.'), 403);
      const interaction = await details(req, reply);
      if (!interaction || interaction.uid !== req.params.uid || interaction.prompt.name !== 'consent') {
        return html(reply, messagePage('Sign-in expired', 'Go back to the application and start again.'), 404);
      }
      if (req.body.decision === 'deny') {
        return finish(req, reply, { error: 'access_denied', error_description: 'the person denied the request' });
      }
      return finish(req, reply, { consent: { grantId: await grantConsent(req, interaction) } });
    },
  );
};

/** `/v1/oauth-clients` (administrators, `clients:read`/`clients:write`) and `/v1/oauth-consents` (the signed-in person). */
export const clientsRoutes: FastifyPluginAsyncTypebox<{ services: OidcRoutesDeps }> = async (app, { services }) => {
  const { clients } = services;
  const tags = ['oauth-clients'];

  app.post(
    '/v1/oauth-clients',
    {
      config: { scopes: ['clients:write'] },
      schema: {
        operationId: 'createOauthClient',
        tags,
        summary: 'Register an application that signs people in through Portcullis',
        description:
          'Creates an OAuth 2.0 / OpenID Connect client in the caller’s organization. For `client_secret_basic` and `client_secret_post` the answer carries `clientSecret` once: only its hash is stored. Redirect URIs match exactly.',
        body: CreateOauthClientBody,
        response: { 201: CreatedOauthClient, ...errors(400, 401, 403) },
      },
    },
    async (req, reply) => reply.code(201).send(await clients.create(ctx(req), req.body)),
  );

  app.get(
    '/v1/oauth-clients',
    {
      config: { scopes: ['clients:read'] },
      schema: {
        operationId: 'listOauthClients',
        tags,
        summary: 'List the organization’s OAuth clients',
        description: 'Every client of the caller’s organization, without secrets (`clientSecretSet` says whether one is set).',
        response: { 200: OauthClientList, ...errors(401, 403) },
      },
    },
    async (req) => ({ clients: await clients.list(ctx(req)) }),
  );

  app.get(
    '/v1/oauth-clients/:clientId',
    {
      config: { scopes: ['clients:read'] },
      schema: {
        operationId: 'getOauthClient',
        tags,
        summary: 'Get an OAuth client',
        description: 'A client of the caller’s organization; another organization’s answers 404.',
        params: OauthClientParams,
        response: { 200: OauthClientSchema, ...errors(401, 403, 404) },
      },
    },
    async (req) => clients.get(ctx(req), req.params.clientId),
  );

  app.patch(
    '/v1/oauth-clients/:clientId',
    {
      config: { scopes: ['clients:write'] },
      schema: {
        operationId: 'updateOauthClient',
        tags,
        summary: 'Change an OAuth client',
        description: 'Fields given replace the stored ones. `rotateSecret: true` issues a new secret, answered once in `clientSecret`.',
        params: OauthClientParams,
        body: UpdateOauthClientBody,
        response: { 200: CreatedOauthClient, ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => clients.update(ctx(req), req.params.clientId, req.body),
  );

  app.delete(
    '/v1/oauth-clients/:clientId',
    {
      config: { scopes: ['clients:write'] },
      schema: {
        operationId: 'deleteOauthClient',
        tags,
        summary: 'Delete an OAuth client',
        description: 'The client can no longer sign anyone in; its consents go with it.',
        params: OauthClientParams,
        response: { 200: Type.Object({ success: Type.Boolean() }), ...errors(401, 403, 404) },
      },
    },
    async (req) => {
      await clients.remove(ctx(req), req.params.clientId);
      return { success: true };
    },
  );

  app.get(
    '/v1/oauth-consents',
    {
      schema: {
        operationId: 'listOauthConsents',
        tags,
        summary: 'The applications the signed-in person allowed',
        description: 'Consents are remembered per person and application until withdrawn.',
        response: { 200: ConsentList, ...errors(401, 403) },
      },
    },
    async (req) => ({ consents: await clients.listConsents(ctx(req)) }),
  );

  app.delete(
    '/v1/oauth-consents/:clientId',
    {
      schema: {
        operationId: 'withdrawOauthConsent',
        tags,
        summary: 'Withdraw the signed-in person’s consent to an application',
        description: 'The grant and every token issued under it end; the application asks again next time.',
        params: OauthClientParams,
        response: { 200: Type.Object({ success: Type.Boolean() }), ...errors(401, 403, 404) },
      },
    },
    async (req) => {
      await clients.withdrawConsent(ctx(req), req.params.clientId);
      return { success: true };
    },
  );
};
