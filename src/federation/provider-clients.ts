import { LRUCache } from 'lru-cache';
import * as client from 'openid-client';
import type { AuthStyle, IdentityProvider, OAuth2Config, OidcConfig } from './idps.repo.js';
import { fetchOAuth2UserInfo, OAUTH2_DEFAULTS, oauth2Metadata } from './oauth2/oauth2.js';
import { OIDC_DEFAULTS, oidcAuthStyle, oidcScopes } from './oidc/oidc.js';
import { type GuardedFetch, OutboundError } from './outbound/guarded-fetch.js';
import { type ExternalProfile, mapProfile, ProviderError } from './profile.js';

export interface ProviderClientsDeps {
  fetch: GuardedFetch;
  allowPrivateHosts: boolean;
  /** `${publicUrl}/oauth/callback`. */
  redirectUri: string;
  /** How long a provider's discovery document (and the JWKS cached with it) is kept. */
  discoveryTtlMs?: number;
}

export interface AuthorizationRequest {
  state: string;
  nonce?: string | undefined;
  codeChallenge: string;
}

export interface CodeExchange {
  code: string;
  /** Set in the browser flow: the state we sent and the `iss` the provider answered with. */
  state?: string | undefined;
  iss?: string | undefined;
  nonce?: string | undefined;
  codeVerifier?: string | undefined;
}

/** Turns any openid-client / transport failure into a `ProviderError` with a loggable reason (never the provider's text). */
function providerFailure(err: unknown): ProviderError {
  if (err instanceof ProviderError) return err;
  if (err instanceof OutboundError) return new ProviderError(`outbound_${err.reason}`, true);
  const e = err as { code?: unknown; error?: unknown; cause?: unknown; name?: unknown };
  if (typeof e?.error === 'string') return new ProviderError(`provider_error:${e.error.slice(0, 64)}`);
  if (e?.cause instanceof OutboundError) return new ProviderError(`outbound_${e.cause.reason}`, true);
  // openid-client's messages are its own fixed texts (never the provider's body): useful in the audit trail.
  const inner = e?.cause instanceof Error ? ` (${e.cause.message})` : '';
  const message = err instanceof Error ? `${err.message}${inner}`.slice(0, 160) : '';
  if (typeof e?.code === 'string') return new ProviderError(`rejected:${e.code}${message ? `:${message}` : ''}`);
  return new ProviderError(`rejected:${typeof e?.name === 'string' ? e.name : 'unknown'}`);
}

const clientAuth = (style: AuthStyle, secret: string) =>
  style === 'IN_HEADER' ? client.ClientSecretBasic(secret) : client.ClientSecretPost(secret);

/**
 * openid-client configurations per provider (discovery document and, inside openid-client, its
 * JWKS: refreshed after 5 minutes, or on an unknown `kid` once the copy is a minute old).
 * Every request goes through the guarded fetch.
 */
export function createProviderClients(deps: ProviderClientsDeps) {
  const cache = new LRUCache<string, Promise<client.Configuration>>({ max: 500, ttl: deps.discoveryTtlMs ?? 3_600_000 });
  const customFetch = deps.fetch as unknown as client.CustomFetch;

  function finish(config: client.Configuration): client.Configuration {
    config[client.customFetch] = customFetch;
    if (deps.allowPrivateHosts) client.allowInsecureRequests(config);
    return config;
  }

  async function discoverOidc(oidc: OidcConfig, secret: string): Promise<client.Configuration> {
    const discovered = await client.discovery(new URL(oidc.issuer), oidc.clientId, undefined, undefined, {
      [client.customFetch]: customFetch,
      ...(deps.allowPrivateHosts ? { execute: [client.allowInsecureRequests] } : {}),
      timeout: 10,
    });
    const metadata = discovered.serverMetadata();
    const style = oidcAuthStyle(oidc, metadata);
    const config = finish(new client.Configuration(metadata, oidc.clientId, { client_secret: secret }, clientAuth(style, secret)));
    // Why: openid-client trusts TLS for id_tokens from the token endpoint unless told otherwise; we verify
    // the signature against the provider's JWKS as well (a compromised or spoofed endpoint is not enough).
    client.enableNonRepudiationChecks(config);
    return config;
  }

  function oauth2Configuration(o: OAuth2Config, secret: string): client.Configuration {
    const metadata = oauth2Metadata(o);
    return finish(
      new client.Configuration(metadata, o.clientId, { client_secret: secret }, clientAuth(o.authStyle ?? 'IN_PARAMS', secret)),
    );
  }

  /** The provider's configuration (cached per provider version: an update starts afresh). */
  function configuration(idp: IdentityProvider, secret: () => string): Promise<client.Configuration> {
    const key = `${idp.id}@${idp.updatedAt}`;
    let entry = cache.get(key);
    if (!entry) {
      const { oidcConfig, oauth2Config } = idp.config;
      entry =
        idp.type === 'OIDC' && oidcConfig
          ? discoverOidc(oidcConfig, secret())
          : oauth2Config
            ? Promise.resolve(oauth2Configuration(oauth2Config, secret()))
            : Promise.reject(new ProviderError('config_missing'));
      // A failed discovery is not cached: the next sign-in tries again.
      entry.catch(() => cache.delete(key));
      cache.set(key, entry);
    }
    return entry.catch((err: unknown) => {
      throw providerFailure(err);
    });
  }

  const scopesOf = (idp: IdentityProvider): string[] =>
    idp.type === 'OIDC' ? oidcScopes(idp.config.oidcConfig) : (idp.config.oauth2Config?.scopes ?? []);

  return {
    configuration,
    forget(idpId: string): void {
      for (const key of cache.keys()) if (key.startsWith(`${idpId}@`)) cache.delete(key);
    },

    /** The provider's authorization URL for the browser flow (state, PKCE S256, nonce for OIDC). */
    async authorizationUrl(idp: IdentityProvider, secret: () => string, req: AuthorizationRequest): Promise<URL> {
      const config = await configuration(idp, secret);
      return client.buildAuthorizationUrl(config, {
        redirect_uri: deps.redirectUri,
        response_type: 'code',
        scope: scopesOf(idp).join(' '),
        state: req.state,
        code_challenge: req.codeChallenge,
        code_challenge_method: 'S256',
        ...(req.nonce ? { nonce: req.nonce } : {}),
      });
    },

    /**
     * Exchanges an authorization code and answers the mapped profile. OIDC: the id_token's
     * signature (provider JWKS), `iss`, `aud`, `exp`, `iat` and — when we started the flow —
     * `nonce` are checked by openid-client; userinfo fills in profile claims. OAuth2: the
     * userinfo document through the field mapping.
     */
    async exchange(idp: IdentityProvider, secret: () => string, input: CodeExchange): Promise<ExternalProfile> {
      try {
        const config = await configuration(idp, secret);
        const metadata = config.serverMetadata();
        const current = new URL(deps.redirectUri);
        current.searchParams.set('code', input.code);
        if (input.state !== undefined) current.searchParams.set('state', input.state);
        // Code login (no browser flow here): the client names the provider, so the issuer is the one we know.
        const iss = input.iss ?? (input.state === undefined ? metadata.issuer : undefined);
        if (iss && metadata.authorization_response_iss_parameter_supported) current.searchParams.set('iss', iss);
        const tokens = await client.authorizationCodeGrant(config, current, {
          ...(input.state !== undefined ? { expectedState: input.state } : {}),
          ...(input.nonce ? { expectedNonce: input.nonce } : {}),
          ...(input.codeVerifier ? { pkceCodeVerifier: input.codeVerifier } : {}),
          idTokenExpected: idp.type === 'OIDC',
        });
        if (idp.type === 'OIDC') {
          const claims = tokens.claims();
          if (!claims) throw new ProviderError('no_id_token');
          let merged: Record<string, unknown> = { ...claims };
          if (metadata.userinfo_endpoint && tokens.access_token) {
            const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
            merged = { ...info, ...claims, sub: claims.sub };
          }
          const mapping = { ...(idp.config.oidcConfig?.fieldMapping ?? {}), identifier: 'sub' };
          return mapProfile(merged, mapping, OIDC_DEFAULTS);
        }
        const url = idp.config.oauth2Config?.userInfoUrl;
        if (!url) throw new ProviderError('config_missing');
        const info = await fetchOAuth2UserInfo(deps.fetch, url, tokens.access_token);
        return mapProfile(info, idp.config.oauth2Config?.fieldMapping ?? {}, OAUTH2_DEFAULTS);
      } catch (err) {
        throw providerFailure(err);
      }
    },
  };
}
export type ProviderClients = ReturnType<typeof createProviderClients>;
