import type * as client from 'openid-client';
import type { AuthStyle, FieldMapping, OidcConfig } from '../idps.repo.js';

/** Standard claim names; OIDC always links by `sub`. */
export const OIDC_DEFAULTS: Required<FieldMapping> = {
  identifier: 'sub',
  displayName: 'name',
  email: 'email',
  phone: 'phone_number',
  emailVerified: 'email_verified',
};

/** `openid` is always requested; no scopes configured means `openid profile email`. */
export function oidcScopes(config: OidcConfig | undefined): string[] {
  const s = config?.scopes ?? [];
  if (!s.length) return ['openid', 'profile', 'email'];
  return s.includes('openid') ? s : ['openid', ...s];
}

/** client_secret_basic when the provider supports it (the spec default), else client_secret_post. */
export function oidcAuthStyle(config: OidcConfig, metadata: client.ServerMetadata): AuthStyle {
  if (config.authStyle) return config.authStyle;
  const supported = metadata.token_endpoint_auth_methods_supported ?? ['client_secret_basic'];
  return supported.includes('client_secret_basic') ? 'IN_HEADER' : 'IN_PARAMS';
}
