import type { AuditService } from '../audit/index.js';
import { authorize, inOrganization, type RequestContext } from '../auth/index.js';
import { newId, randomToken, sha256Hex } from '../crypto/index.js';
import { AppError } from '../errors/index.js';
import type { ClientSettings, ClientsRepo, ConsentsRepo, OauthClient } from './clients.repo.js';
import { OIDC_SCOPES } from './clients.schemas.js';

export interface CreateClientInput {
  name: string;
  redirectUris?: string[] | undefined;
  postLogoutRedirectUris?: string[] | undefined;
  grantTypes?: string[] | undefined;
  tokenEndpointAuthMethod?: string | undefined;
  firstParty?: boolean | undefined;
  allowedScopes?: string[] | undefined;
  accessTokenTtl?: number | undefined;
  jwks?: { keys: Record<string, unknown>[] } | undefined;
  backchannelLogoutUri?: string | undefined;
  acr?: string | undefined;
}

export interface UpdateClientInput extends Partial<Omit<CreateClientInput, 'tokenEndpointAuthMethod' | 'backchannelLogoutUri' | 'acr'>> {
  backchannelLogoutUri?: string | null | undefined;
  acr?: string | null | undefined;
  rotateSecret?: boolean | undefined;
}

/** Secret-based client authentication: the secret is 32 random bytes, stored as its SHA-256 only. */
export const usesSecret = (method: string): boolean => method === 'client_secret_basic' || method === 'client_secret_post';
export const hashClientSecret = (secret: string): string => sha256Hex(secret);

/**
 * The client metadata oidc-provider works with (RFC 7591 names). `client_secret` is the stored hash:
 * the provider's secret comparison is replaced by one that hashes what the client presents.
 */
export function toProviderMetadata(c: OauthClient): Record<string, unknown> {
  const code = c.grantTypes.includes('authorization_code');
  return {
    client_id: c.clientId,
    client_name: c.name,
    ...(c.secretHash ? { client_secret: c.secretHash } : {}),
    redirect_uris: code ? c.redirectUris : [],
    post_logout_redirect_uris: c.postLogoutRedirectUris,
    grant_types: c.grantTypes,
    response_types: code ? ['code'] : [],
    token_endpoint_auth_method: c.tokenEndpointAuthMethod,
    scope: c.allowedScopes.join(' '),
    id_token_signed_response_alg: 'RS256',
    ...(c.jwks ? { jwks: c.jwks } : {}),
    ...(c.backchannelLogoutUri ? { backchannel_logout_uri: c.backchannelLogoutUri, backchannel_logout_session_required: true } : {}),
    organization_id: c.organizationId,
    first_party: c.firstParty,
    access_token_ttl: c.accessTokenTtl,
  };
}

/** The API view: never the secret or its hash. */
export function presentClient(c: OauthClient) {
  const { secretHash, jwks, backchannelLogoutUri, acr, ...rest } = c;
  return {
    ...rest,
    ...(jwks ? { jwks } : {}),
    ...(backchannelLogoutUri ? { backchannelLogoutUri } : {}),
    ...(acr ? { acr } : {}),
    clientSecretSet: secretHash !== null,
  };
}
export type ClientView = ReturnType<typeof presentClient>;

export interface ClientsServiceDeps {
  repo: ClientsRepo;
  consents: ConsentsRepo;
  audit: AuditService;
  /** The provider's own validation of client metadata (answers a description of what is wrong, or nothing). */
  validate: (metadata: Record<string, unknown>) => Promise<string | undefined>;
  /** Ends what a client was granted (its tokens and grants), when it is deleted or a consent is withdrawn. */
  revokeGrant: (grantId: string) => Promise<void>;
  defaultAccessTokenTtl: number;
}

/** OAuth clients (`/v1/oauth-clients`, `portcullis admin create-client`) and people's consents to them. */
export function createClientsService(deps: ClientsServiceDeps) {
  const { repo, audit } = deps;

  async function check(c: OauthClient): Promise<void> {
    const details: string[] = [];
    const wantsCode = c.grantTypes.includes('authorization_code');
    if (c.grantTypes.includes('refresh_token') && !wantsCode) details.push('body.grantTypes');
    if (wantsCode && c.redirectUris.length === 0) details.push('body.redirectUris');
    if (c.tokenEndpointAuthMethod === 'none' && c.grantTypes.includes('client_credentials')) details.push('body.grantTypes');
    if (c.tokenEndpointAuthMethod === 'private_key_jwt' && !c.jwks) details.push('body.jwks');
    for (const uri of [...c.redirectUris, ...c.postLogoutRedirectUris, ...(c.backchannelLogoutUri ? [c.backchannelLogoutUri] : [])]) {
      if (uri.includes('#') || !URL.canParse(uri)) details.push('body.redirectUris');
    }
    if (details.length > 0) throw new AppError('request.invalid', { details: [...new Set(details)], detail: 'client settings' });
    const problem = await deps.validate(toProviderMetadata(c));
    if (problem) throw new AppError('request.invalid', { details: ['body'], detail: problem });
  }

  async function load(ctx: RequestContext, clientId: string, action: 'oauth_client.read' | 'oauth_client.write'): Promise<OauthClient> {
    const client = await repo.findById(clientId);
    // Why: another organization's client answers as a missing one (the policy says not_found for it).
    if (!client) {
      authorize(ctx.principal, action, inOrganization(ctx.principal?.organizationId ?? ''));
      throw new AppError('resource.not_found', { detail: 'no such client' });
    }
    authorize(ctx.principal, action, inOrganization(client.organizationId));
    return client;
  }

  async function record(
    ctx: RequestContext,
    action: 'oauth_client.created' | 'oauth_client.updated' | 'oauth_client.deleted',
    c: OauthClient,
    data?: Record<string, unknown>,
  ) {
    await audit.record(ctx, {
      action,
      organizationId: c.organizationId,
      targetType: 'oauth_client',
      targetId: c.clientId,
      data: { name: c.name, ...(data ?? {}) },
    });
  }

  return {
    async create(
      ctx: RequestContext,
      input: CreateClientInput,
      organizationId?: string,
    ): Promise<{ client: ClientView; clientSecret?: string }> {
      const p = authorize(ctx.principal, 'oauth_client.write', inOrganization(organizationId ?? ctx.principal?.organizationId ?? ''));
      const method = input.tokenEndpointAuthMethod ?? 'client_secret_basic';
      const grantTypes = input.grantTypes ?? ['authorization_code', 'refresh_token'];
      const secret = usesSecret(method) ? randomToken(32) : undefined;
      const now = ctx.now.toISOString();
      const settings: ClientSettings = {
        redirectUris: input.redirectUris ?? [],
        postLogoutRedirectUris: input.postLogoutRedirectUris ?? [],
        grantTypes,
        tokenEndpointAuthMethod: method,
        firstParty: input.firstParty ?? false,
        allowedScopes: input.allowedScopes ?? [...OIDC_SCOPES],
        accessTokenTtl: input.accessTokenTtl ?? deps.defaultAccessTokenTtl,
        jwks: input.jwks,
        backchannelLogoutUri: input.backchannelLogoutUri,
        acr: input.acr,
      };
      const client: OauthClient = {
        ...settings,
        clientId: newId(),
        organizationId: organizationId ?? p.organizationId,
        name: input.name,
        secretHash: secret ? hashClientSecret(secret) : null,
        createdAt: now,
        updatedAt: now,
      };
      await check(client);
      await repo.insert(client);
      await record(ctx, 'oauth_client.created', client, { grantTypes, tokenEndpointAuthMethod: method });
      return { client: presentClient(client), ...(secret ? { clientSecret: secret } : {}) };
    },

    async list(ctx: RequestContext): Promise<ClientView[]> {
      const p = authorize(ctx.principal, 'oauth_client.read', inOrganization(ctx.principal?.organizationId ?? ''));
      return (await repo.listByOrganization(p.organizationId)).map(presentClient);
    },

    async get(ctx: RequestContext, clientId: string): Promise<ClientView> {
      return presentClient(await load(ctx, clientId, 'oauth_client.read'));
    },

    async update(ctx: RequestContext, clientId: string, input: UpdateClientInput): Promise<{ client: ClientView; clientSecret?: string }> {
      const current = await load(ctx, clientId, 'oauth_client.write');
      const { rotateSecret, backchannelLogoutUri, acr, ...fields } = input;
      const defined = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
      const next: OauthClient = { ...current, ...defined, updatedAt: ctx.now.toISOString() };
      if (backchannelLogoutUri !== undefined) next.backchannelLogoutUri = backchannelLogoutUri ?? undefined;
      if (acr !== undefined) next.acr = acr ?? undefined;
      let secret: string | undefined;
      if (rotateSecret) {
        if (!usesSecret(current.tokenEndpointAuthMethod)) {
          throw new AppError('request.invalid', { details: ['body.rotateSecret'], detail: 'client has no secret' });
        }
        secret = randomToken(32);
        next.secretHash = hashClientSecret(secret);
      }
      await check(next);
      await repo.update(next);
      await record(ctx, 'oauth_client.updated', next, { fields: Object.keys(input).sort() });
      return { client: presentClient(next), ...(secret ? { clientSecret: secret } : {}) };
    },

    async remove(ctx: RequestContext, clientId: string): Promise<void> {
      const client = await load(ctx, clientId, 'oauth_client.write');
      await repo.deleteById(clientId);
      await record(ctx, 'oauth_client.deleted', client);
    },

    /** The signed-in person's consents. */
    async listConsents(ctx: RequestContext) {
      const p = ctx.principal;
      if (!p || p.kind !== 'user') throw new AppError('auth.forbidden', { detail: 'consents belong to a person' });
      return (await deps.consents.listForUser(p.userId)).map(({ grantId: _g, ...rest }) => rest);
    },

    /** Withdraws the signed-in person's consent to a client: its grant and every token from it end. */
    async withdrawConsent(ctx: RequestContext, clientId: string): Promise<void> {
      const p = ctx.principal;
      if (!p || p.kind !== 'user') throw new AppError('auth.forbidden', { detail: 'consents belong to a person' });
      const grantId = await deps.consents.remove(p.userId, clientId);
      if (!grantId) throw new AppError('resource.not_found', { detail: 'no consent for this client' });
      await deps.revokeGrant(grantId);
      await audit.record(ctx, {
        action: 'oauth.consent_withdrawn',
        organizationId: p.organizationId,
        targetType: 'oauth_client',
        targetId: clientId,
        actor: { type: 'user', id: p.userId },
      });
    },

    findById: repo.findById,
  };
}
export type ClientsService = ReturnType<typeof createClientsService>;
