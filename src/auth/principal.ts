import type { Scope } from './scopes.js';

/** A restricted session can do one thing only until it is lifted. */
export type Restriction = 'password_change' | 'mfa_enroll';

/** Who is calling: a user (by token or cookie) or an API key acting for its owner. Always in one organization. */
export interface Principal {
  kind: 'user' | 'api_key';
  userId: string;
  organizationId: string;
  roles: readonly string[];
  scopes: ReadonlySet<Scope>;
  isSuperadmin: boolean;
  via: 'bearer' | 'cookie' | 'api_key' | 'basic';
  sessionId?: string;
  apiKeyId?: number;
  restriction?: Restriction;
}

/** Everything a service needs to know about the request, built by the route. */
export interface RequestContext {
  principal: Principal | undefined;
  ip: string;
  requestId: string;
  userAgent: string | undefined;
  now: Date;
}
