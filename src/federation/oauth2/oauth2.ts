import type * as client from 'openid-client';
import type { FieldMapping, OAuth2Config } from '../idps.repo.js';
import type { GuardedFetch } from '../outbound/guarded-fetch.js';
import { ProviderError } from '../profile.js';

/** OAuth2 userinfo field names when the mapping leaves them out (GitHub-like). No default for `emailVerified`. */
export const OAUTH2_DEFAULTS: Required<FieldMapping> = {
  identifier: 'id',
  displayName: 'name',
  email: 'email',
  phone: 'phone',
  emailVerified: '',
};

/** Server metadata of a plain OAuth2 provider (no discovery): its three configured endpoints. */
export function oauth2Metadata(o: OAuth2Config): client.ServerMetadata {
  return {
    issuer: new URL(o.authUrl).origin,
    authorization_endpoint: o.authUrl,
    token_endpoint: o.tokenUrl,
    userinfo_endpoint: o.userInfoUrl,
  };
}

/** GET userinfo with the access token; a JSON object or a `ProviderError`. */
export async function fetchOAuth2UserInfo(fetch: GuardedFetch, url: string, accessToken: string): Promise<Record<string, unknown>> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' } });
  if (res.status !== 200) throw new ProviderError(`userinfo_status_${res.status}`);
  const body = (await res.json().catch(() => undefined)) as unknown;
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ProviderError('userinfo_not_json');
  return body as Record<string, unknown>;
}
