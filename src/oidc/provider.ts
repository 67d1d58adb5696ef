import { createHmac } from 'node:crypto';
import type { AuditService } from '../audit/index.js';
import type { Config } from '../config/index.js';
import { constantTimeEqual } from '../crypto/index.js';
import type { User, UsersService } from '../identity/index.js';
import type { Logger } from '../log/index.js';
import type { SigningKeyStore } from '../sessions/index.js';
import type { Executor } from '../storage/index.js';
import type { ClientsRepo, ConsentsRepo } from './clients.repo.js';
import { hashClientSecret } from './clients.service.js';
import { createOidcAdapter } from './oidc.adapter.js';
import { escapeHtml, messagePage, PAGE_CSP, page } from './pages.js';

/** Where the provider's endpoints live (under the issuer, `PORTCULLIS_PUBLIC_URL`). */
export const OIDC_ROUTES = {
  authorization: '/oauth2/authorize',
  token: '/oauth2/token',
  userinfo: '/oauth2/userinfo',
  introspection: '/oauth2/introspect',
  revocation: '/oauth2/revoke',
  end_session: '/oauth2/logout',
  pushed_authorization_request: '/oauth2/par',
  jwks: '/.well-known/jwks.json',
  // Unused features: out of the way of our own routes.
  registration: '/oauth2/reg',
  code_verification: '/oauth2/device',
  device_authorization: '/oauth2/device/auth',
  backchannel_authentication: '/oauth2/backchannel',
  challenge: '/oauth2/challenge',
  credential: '/oauth2/credential',
} as const;

export const INTERACTION_PREFIX = '/oauth2/interaction';

/** The paths Fastify hands to the provider, and with which methods. */
export const PROVIDER_PATHS: ReadonlyArray<{ url: string; methods: Array<'GET' | 'POST' | 'OPTIONS'> }> = [
  { url: '/.well-known/openid-configuration', methods: ['GET', 'OPTIONS'] },
  { url: '/.well-known/oauth-authorization-server', methods: ['GET', 'OPTIONS'] },
  { url: OIDC_ROUTES.authorization, methods: ['GET', 'POST'] },
  { url: `${OIDC_ROUTES.authorization}/:uid`, methods: ['GET'] },
  { url: OIDC_ROUTES.token, methods: ['POST', 'OPTIONS'] },
  { url: OIDC_ROUTES.userinfo, methods: ['GET', 'POST', 'OPTIONS'] },
  { url: OIDC_ROUTES.introspection, methods: ['POST', 'OPTIONS'] },
  { url: OIDC_ROUTES.revocation, methods: ['POST', 'OPTIONS'] },
  { url: OIDC_ROUTES.end_session, methods: ['GET', 'POST'] },
  { url: `${OIDC_ROUTES.end_session}/confirm`, methods: ['POST'] },
  { url: `${OIDC_ROUTES.end_session}/success`, methods: ['GET'] },
  { url: OIDC_ROUTES.pushed_authorization_request, methods: ['POST', 'OPTIONS'] },
];

export const OIDC_SCOPE_CLAIMS = {
  openid: ['sub', 'org', 'acr', 'amr', 'auth_time'],
  profile: ['name', 'preferred_username', 'given_name', 'family_name', 'updated_at'],
  email: ['email', 'email_verified'],
  groups: ['groups'],
};

/** The claims of a person, by the scopes' claim names (the provider keeps those the grant allows). */
export function claimsOf(user: User): Record<string, unknown> {
  const name = [user.firstName, user.lastName].filter(Boolean).join(' ') || user.userName;
  return {
    sub: user.id,
    org: user.organizationId,
    name,
    preferred_username: user.userName,
    ...(user.firstName ? { given_name: user.firstName } : {}),
    ...(user.lastName ? { family_name: user.lastName } : {}),
    updated_at: Math.floor(Date.parse(user.updatedAt) / 1000),
    ...(user.email ? { email: user.email, email_verified: user.emailVerified } : {}),
    groups: user.groups,
  };
}

/**
 * Makes a request look, to the provider, as if it came to the issuer (its host and scheme), from the
 * address Fastify computed (which honours only the trusted proxies). What the client sent in these
 * headers is overwritten.
 */
export function asIssuer(raw: { headers: Record<string, string | string[] | undefined> }, issuer: string, ip: string): void {
  const url = new URL(issuer);
  raw.headers['x-forwarded-host'] = url.host;
  raw.headers['x-forwarded-proto'] = url.protocol.replace(':', '');
  raw.headers['x-forwarded-for'] = ip;
}

export interface ProviderDeps {
  /** oidc-provider itself (src/oidc/load.ts). */
  oidcProvider: typeof import('oidc-provider');
  config: Config;
  db: Executor;
  keys: SigningKeyStore;
  clients: ClientsRepo;
  consents: ConsentsRepo;
  users: UsersService;
  audit: AuditService;
  log: Logger;
  /** After an RP-initiated logout: ends the Portcullis session of that browser (by its refresh cookie). */
  endPortcullisSession: (refreshToken: string | undefined) => Promise<void>;
}

const LOGOUT_COOKIES = ['access-token', 'refresh-token', 'user'];

/**
 * Builds oidc-provider over Portcullis: our storage, our keys (rebuilt when they rotate), our clients,
 * our people. `current()` answers the provider for the keys in force.
 */
export function createProviderHolder(deps: ProviderDeps) {
  const { config, keys, log } = deps;
  const { default: Provider, errors: oidcErrors } = deps.oidcProvider;
  const Adapter = createOidcAdapter({ db: deps.db, findClient: deps.clients.findById });
  const resourceServers = new Set(config.oidcResourceServers);
  let built: { generation: string; provider: any; callback: (req: unknown, res: unknown) => void } | undefined;

  function build(): any {
    const jwks = keys.privateJwks();
    // Cookie signing keys come from the signing keys (sealed at rest, shared by every instance): the
    // newest signs, the older ones still verify until they retire.
    const cookieKeys = jwks.map((k) =>
      createHmac('sha256', String(k.d ?? k.kid))
        .update('portcullis oidc cookies')
        .digest('base64url'),
    );
    const provider = new Provider(config.publicUrl, {
      adapter: Adapter,
      clients: [],
      jwks: { keys: jwks.map((k) => ({ ...k })) },
      cookies: {
        keys: cookieKeys,
        names: { session: 'pc_oidc_session', interaction: 'pc_oidc_interaction', resume: 'pc_oidc_resume', state: 'pc_oidc_state' },
        long: { signed: true, httpOnly: true, sameSite: 'lax' },
        short: { signed: true, httpOnly: true, sameSite: 'lax' },
      },
      routes: OIDC_ROUTES,
      interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `${INTERACTION_PREFIX}/${interaction.uid}` },
      async findAccount(_ctx: unknown, sub: string) {
        const user = await deps.users.lookup.findById(sub);
        if (!user || user.state !== 'ACTIVE') return undefined;
        return { accountId: sub, claims: async () => claimsOf(user) };
      },
      claims: { sid: null, iss: null, ...OIDC_SCOPE_CLAIMS },
      scopes: ['openid', 'offline_access', 'profile', 'email', 'groups'],
      responseTypes: ['code'],
      // S256 is the only method oidc-provider 9 knows; public clients must use it.
      pkce: { required: (_ctx: unknown, client: any) => client.clientAuthMethod === 'none' },
      allowOmittingSingleRegisteredRedirectUri: false,
      extraClientMetadata: { properties: ['organization_id', 'first_party', 'access_token_ttl'] },
      clientDefaults: { id_token_signed_response_alg: 'RS256', grant_types: ['authorization_code'], response_types: ['code'] },
      enabledJWA: {
        idTokenSigningAlgValues: ['RS256', 'EdDSA'],
        userinfoSigningAlgValues: ['RS256', 'EdDSA'],
        introspectionSigningAlgValues: ['RS256', 'EdDSA'],
        authorizationSigningAlgValues: ['RS256', 'EdDSA'],
        requestObjectSigningAlgValues: ['RS256', 'PS256', 'ES256', 'EdDSA'],
        clientAuthSigningAlgValues: ['RS256', 'PS256', 'ES256', 'EdDSA'],
        dPoPSigningAlgValues: ['ES256', 'EdDSA', 'RS256', 'PS256'],
      },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        introspection: { enabled: true },
        revocation: { enabled: true },
        userinfo: { enabled: true },
        backchannelLogout: { enabled: true },
        pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: false },
        dPoP: { enabled: true },
        rpInitiatedLogout: {
          enabled: true,
          async logoutSource(ctx: any, form: string) {
            ctx.set('content-security-policy', PAGE_CSP);
            ctx.body = page(
              'Sign out',
              `${form}<p>Sign out of Portcullis and the applications you signed in to with it?</p>
<button type="submit" form="op.logoutForm" name="logout" value="yes" id="logout">Sign out</button>
<button type="submit" form="op.logoutForm" class="secondary" id="stay">Stay signed in</button>`,
            );
          },
          async postLogoutSuccessSource(ctx: any) {
            ctx.set('content-security-policy', PAGE_CSP);
            ctx.body = messagePage('Signed out', 'You are signed out.');
          },
        },
        resourceIndicators: {
          enabled: true,
          defaultResource: async (_ctx: unknown, _client: unknown, oneOf?: string[]) => oneOf,
          useGrantedResource: async () => true,
          async getResourceServerInfo(_ctx: unknown, indicator: string, client: any) {
            if (!resourceServers.has(indicator)) throw new oidcErrors.InvalidTarget('unknown resource indicator');
            return {
              scope: String(client.scope ?? ''),
              audience: indicator,
              accessTokenTTL: Number(client.metadata().access_token_ttl) || config.accessTokenTtlSeconds,
              accessTokenFormat: 'jwt',
              jwt: { sign: { alg: 'RS256' } },
            };
          },
        },
      },
      ttl: {
        AccessToken: (_ctx: unknown, token: any, client: any) =>
          token.resourceServer?.accessTokenTTL ?? (Number(client?.metadata().access_token_ttl) || config.accessTokenTtlSeconds),
        ClientCredentials: (_ctx: unknown, token: any, client: any) =>
          token.resourceServer?.accessTokenTTL ?? (Number(client?.metadata().access_token_ttl) || config.accessTokenTtlSeconds),
        AuthorizationCode: config.oidcCodeTtlSeconds,
        IdToken: 3600,
        Interaction: 600,
        RefreshToken: config.sessionAbsoluteTtlSeconds,
        Session: config.sessionAbsoluteTtlSeconds,
        Grant: 365 * 86_400,
        BackchannelAuthenticationRequest: 600,
        DeviceCode: 600,
      },
      rotateRefreshToken: true,
      issueRefreshToken: async (_ctx: unknown, client: any, code: any) =>
        client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
      async loadExistingGrant(ctx: any) {
        const client = ctx.oidc.client;
        const accountId: string | undefined = ctx.oidc.session?.accountId;
        if (!accountId) return undefined;
        const remembered =
          ctx.oidc.result?.consent?.grantId ||
          ctx.oidc.session.grantIdFor(client.clientId) ||
          (await deps.consents.find(accountId, client.clientId))?.grantId;
        let grant = remembered ? await ctx.oidc.provider.Grant.find(remembered) : undefined;
        if (grant && (grant.accountId !== accountId || grant.clientId !== client.clientId)) grant = undefined;
        if (client.metadata().first_party !== true) return grant;
        // A first-party application is granted what it asks for (within its allowed scopes): no consent page.
        grant ??= new ctx.oidc.provider.Grant({ accountId, clientId: client.clientId });
        const requested = [...(ctx.oidc.requestParamScopes ?? [])].join(' ');
        if (requested) grant.addOIDCScope(requested);
        for (const [indicator, server] of Object.entries(ctx.oidc.resourceServers ?? {})) {
          grant.addResourceScope(indicator, (server as { scope?: string }).scope ?? '');
        }
        await grant.save();
        return grant;
      },
      clientBasedCORS(_ctx: unknown, origin: string, client: any) {
        return (client.redirectUris ?? []).some((uri: string) => URL.canParse(uri) && new URL(uri).origin === origin);
      },
      async renderError(ctx: any, out: { error: string; error_description?: string }) {
        ctx.type = 'html';
        ctx.set('content-security-policy', PAGE_CSP);
        ctx.body = page(
          'Sign-in error',
          `<p id="error-code">${escapeHtml(out.error)}</p>${out.error_description ? `<p id="error-description">${escapeHtml(out.error_description)}</p>` : ''}`,
        );
      },
    });
    // Why: the provider's URLs (discovery, redirects, cookies' Secure flag) follow the issuer, not what a
    // request's Host says; `asIssuer` sets the forwarded headers on every request it sees.
    provider.proxy = true;

    // Why: secrets are stored as their SHA-256 only; the provider compares what the client presents, hashed, in constant time.
    provider.Client.prototype.compareClientSecret = function compareClientSecret(this: { clientSecret?: string }, actual: unknown) {
      if (typeof actual !== 'string' || actual.length === 0 || actual.length > 512 || !this.clientSecret) return false;
      return constantTimeEqual(this.clientSecret, hashClientSecret(actual));
    };

    // Why: OIDC Core makes `at_hash` optional for the code flow and oidc-provider sets it only on ID
    // tokens from the authorization endpoint; relying parties that check it (the issue's suite does)
    // get it from the token endpoint too. The access token's value is kept on its model when saved.
    const saveAccessToken = provider.AccessToken.prototype.save;
    provider.AccessToken.prototype.save = async function save(this: Record<string, unknown>) {
      const value = await saveAccessToken.call(this);
      Object.defineProperty(this, 'portcullisValue', { value, enumerable: false, configurable: true });
      return value;
    };
    const issueIdToken = provider.IdToken.prototype.issue;
    provider.IdToken.prototype.issue = function issue(this: any, options: { use?: string }) {
      const at = this.ctx?.oidc?.entities?.AccessToken;
      if (options?.use === 'idtoken' && this.ctx?.oidc?.route === 'token' && typeof at?.portcullisValue === 'string') {
        this.set('at_hash', at.portcullisValue);
      }
      return issueIdToken.call(this, options);
    };

    provider.use(async (ctx: any, next: () => Promise<void>) => {
      await next();
      await afterRoute(ctx).catch((err: unknown) =>
        log.warn({ reason: err instanceof Error ? err.message : 'unknown', route: ctx.oidc?.route }, 'oidc post-processing failed'),
      );
    });
    provider.on('grant.revoked', (ctx: any, grantId: string) => {
      const client = ctx?.oidc?.client;
      if (!client) return;
      void deps.audit
        .record(auditCtx(ctx), {
          action: 'oauth.grant_revoked',
          organizationId: (client.metadata().organization_id as string | undefined) ?? null,
          outcome: 'failure',
          targetType: 'oauth_client',
          targetId: client.clientId,
          data: { grantId, route: ctx.oidc.route },
        })
        .catch(() => {});
    });
    provider.on('server_error', (_ctx: unknown, err: Error) => log.error({ reason: err.message }, 'oidc provider error'));
    return provider;
  }

  const auditCtx = (ctx: any) => ({
    principal: undefined,
    ip: String(ctx.ip ?? ''),
    requestId: String(ctx.get?.('x-request-id') || ''),
    userAgent: ctx.get?.('user-agent') || undefined,
    now: new Date(),
  });

  /** Audit records and the end of the Portcullis session, once the provider answered. */
  async function afterRoute(ctx: any): Promise<void> {
    const route: string | undefined = ctx.oidc?.route;
    const client = ctx.oidc?.client;
    const organizationId = (client?.metadata().organization_id as string | undefined) ?? null;
    if (route === 'token' && ctx.status === 200 && client) {
      const entities = ctx.oidc.entities ?? {};
      const accountId: string | undefined =
        entities.AccessToken?.accountId ?? entities.RefreshToken?.accountId ?? entities.AuthorizationCode?.accountId;
      await deps.audit.record(auditCtx(ctx), {
        action: 'oauth.token_issued',
        organizationId,
        targetType: 'oauth_client',
        targetId: client.clientId,
        ...(accountId ? { actor: { type: 'user' as const, id: accountId } } : {}),
        data: { grantType: String(ctx.oidc.params?.grant_type ?? ''), ...(ctx.body?.refresh_token ? { refreshToken: true } : {}) },
      });
    } else if ((route === 'resume' || route === 'authorization') && client && ctx.oidc.entities?.AuthorizationCode) {
      await deps.audit.record(auditCtx(ctx), {
        action: 'oauth.code_issued',
        organizationId,
        targetType: 'oauth_client',
        targetId: client.clientId,
        actor: { type: 'user', id: ctx.oidc.entities.AuthorizationCode.accountId },
        data: { scope: String(ctx.oidc.entities.AuthorizationCode.scope ?? '') },
      });
    } else if (route === 'revocation' && ctx.status === 200 && client) {
      await deps.audit.record(auditCtx(ctx), {
        action: 'oauth.token_revoked',
        organizationId,
        targetType: 'oauth_client',
        targetId: client.clientId,
      });
    } else if (route === 'end_session_confirm' && ctx.oidc.params?.logout) {
      // RP-initiated logout ends the Portcullis session of this browser too (single sign-on ends).
      await deps.endPortcullisSession(ctx.cookies.get('refresh-token'));
      for (const name of LOGOUT_COOKIES) {
        ctx.append(
          'Set-Cookie',
          `${name}=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; SameSite=Lax${name === 'user' ? '' : '; HttpOnly'}`,
        );
      }
    }
  }

  return {
    /** The provider for the keys in force (rebuilt after a rotation). */
    current(): { provider: any; callback: (req: unknown, res: unknown) => void } {
      const generation = keys.generation();
      if (!built || built.generation !== generation) {
        const provider = build();
        built = { generation, provider, callback: provider.callback() };
      }
      return built;
    },
    /** Checks client metadata the way the provider will read it; answers what is wrong, or undefined. */
    async validate(metadata: Record<string, unknown>): Promise<string | undefined> {
      try {
        await this.current().provider.Client.validate(metadata);
        return undefined;
      } catch (err) {
        return err instanceof Error
          ? ((err as { error_description?: string }).error_description ?? err.message)
          : 'invalid client metadata';
      }
    },
    /** Ends a grant and everything issued under it. */
    async revokeGrant(grantId: string): Promise<void> {
      await new Adapter('Grant').revokeByGrantId(grantId);
    },
  };
}
export type ProviderHolder = ReturnType<typeof createProviderHolder>;
