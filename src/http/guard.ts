import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Principal } from '../auth/index.js';
import type { Config } from '../config/index.js';
import { AppError } from '../errors/index.js';

/** Turns a presented credential into a principal, or `undefined` when it is not valid. */
export interface CredentialVerifiers {
  accessToken(token: string, via: 'bearer' | 'cookie'): Promise<Principal | undefined>;
  apiKeySecret(secret: string, via: 'bearer' | 'api_key'): Promise<Principal | undefined>;
  apiKeyBasic(key: string, secret: string): Promise<Principal | undefined>;
}

export const ACCESS_COOKIE = 'access-token';
export const REFRESH_COOKIE = 'refresh-token';
export const USER_COOKIE = 'user';

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const looksLikeJwt = (v: string): boolean => /^[\w-]+\.[\w-]+\.[\w-]+$/.test(v);

type Attempt = () => Promise<Principal | undefined>;

/** The credentials a request presents, in the order they are tried. */
function attempts(req: FastifyRequest, verifiers: CredentialVerifiers, apiKeyOnly: boolean): Attempt[] {
  const list: Attempt[] = [];
  const authz = req.headers.authorization;
  if (typeof authz === 'string') {
    const [scheme, ...rest] = authz.trim().split(/\s+/);
    const value = rest.join(' ');
    const s = scheme?.toLowerCase();
    if (s === 'basic' && value) {
      list.push(async () => {
        const decoded = Buffer.from(value, 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        if (colon < 1) return undefined;
        return verifiers.apiKeyBasic(decoded.slice(0, colon), decoded.slice(colon + 1));
      });
    } else if (s === 'bearer' && value) {
      if (!looksLikeJwt(value)) list.push(() => verifiers.apiKeySecret(value, 'bearer'));
      else if (!apiKeyOnly) list.push(() => verifiers.accessToken(value, 'bearer'));
    } else if (!apiKeyOnly) {
      list.push(async () => undefined);
    }
  }
  const apiKey = req.headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey) list.push(() => verifiers.apiKeySecret(apiKey.trim(), 'api_key'));
  const cookie = req.cookies?.[ACCESS_COOKIE];
  if (!apiKeyOnly && cookie) list.push(() => verifiers.accessToken(cookie, 'cookie'));
  return list;
}

/**
 * The principal of an API key presented on a request that is not routed through Fastify (a WebSocket
 * upgrade: the live browser sessions' CDP endpoint): `x-api-key`, `Authorization: Bearer <secret>`
 * or Basic. Access tokens and cookies are not taken there: a CDP client is an automation holding a key.
 */
export async function principalFromApiKey(
  headers: Record<string, string | string[] | undefined>,
  verifiers: CredentialVerifiers,
): Promise<Principal | undefined> {
  for (const attempt of attempts({ headers, cookies: {} } as unknown as FastifyRequest, verifiers, true)) {
    const principal = await attempt();
    if (principal) return principal;
  }
  return undefined;
}

/**
 * False for a browser request that another site (or a sibling on the same site) may have forged.
 * `Sec-Fetch-Site: same-origin` and `none` (typed, bookmarked) pass; `same-site` passes only with
 * an `Origin` in `PORTCULLIS_ALLOWED_ORIGINS` (or the public URL's); `cross-site` never does. Without
 * `Sec-Fetch-Site`, an `Origin` must be allowed; a request with neither header (curl, scripts,
 * server-side clients — which cannot ride a victim's cookie) passes.
 */
export function originAllowed(req: FastifyRequest, config: Config): boolean {
  const site = req.headers['sec-fetch-site'];
  const origin = req.headers.origin;
  const allowedOrigin = typeof origin === 'string' && config.allowedOrigins.includes(origin);
  if (site === 'same-origin' || site === 'none') return true;
  // Why: "same-site" covers every subdomain of the registrable domain (and any port or scheme of
  // it), so a page on a sibling host, perhaps user-controlled, would pass on the header alone.
  if (site === 'same-site') return allowedOrigin;
  if (site === 'cross-site') return false;
  // Why: an unknown Sec-Fetch-Site value is judged by Origin alone, like a browser that sends none.
  if (typeof origin !== 'string') return true;
  return allowedOrigin;
}

/**
 * One guard for every route. It tries each presented credential (Authorization, then
 * `x-api-key`, then the `access-token` cookie); the first valid one becomes the principal.
 * A credential that is presented but valid nowhere is a 401 even on optional routes.
 */
export function registerGuard(app: FastifyInstance, config: Config, getVerifiers: () => CredentialVerifiers): void {
  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', async (req) => {
    if (req.is404) return;
    const route = req.routeOptions.config;
    // Own properties only: even a polluted Object.prototype cannot switch authentication off.
    const mode = (Object.hasOwn(route, 'auth') ? route.auth : undefined) ?? 'required';
    if (mode === 'none') return;
    const tries = attempts(req, getVerifiers(), route.apiKeyOnly === true);
    let principal: Principal | undefined;
    for (const attempt of tries) {
      principal = await attempt();
      if (principal) break;
    }
    if (!principal) {
      if (tries.length === 0 && mode === 'optional') return;
      throw new AppError(tries.length === 0 ? 'auth.unauthenticated' : 'auth.invalid_credentials', {
        detail: tries.length === 0 ? 'no credential' : 'credential rejected',
      });
    }
    // Why: a cookie rides along on cross-site requests; a forged form or fetch must not write.
    if (principal.via === 'cookie' && UNSAFE.has(req.method) && !originAllowed(req, config)) {
      throw new AppError('request.cross_site');
    }
    const allowRestricted = Object.hasOwn(route, 'allowRestricted') ? route.allowRestricted : undefined;
    if (principal.restriction && !allowRestricted?.includes(principal.restriction)) {
      throw new AppError(principal.restriction === 'password_change' ? 'auth.password_change_required' : 'auth.mfa_enrollment_required');
    }
    for (const scope of route.scopes ?? []) {
      if (!principal.scopes.has(scope)) throw new AppError('auth.forbidden', { detail: `missing scope ${scope}` });
    }
    req.principal = principal;
  });
}
