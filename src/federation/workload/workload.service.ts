import { createRemoteJWKSet, customFetch, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { LRUCache } from 'lru-cache';
import type { AuditService } from '../../audit/index.js';
import type { RequestContext } from '../../auth/index.js';
import { AppError } from '../../errors/index.js';
import type { User, UsersService, WorkloadIdentityConfig } from '../../identity/index.js';
import type { SessionsService } from '../../sessions/index.js';
import { checkOutboundUrl, type GuardedFetch, OutboundError } from '../outbound/guarded-fetch.js';
import { subjectMatches } from './subject-pattern.js';

/** Issuers preset per provider type (used when `issuerUrl` is empty). */
export const WORKLOAD_ISSUERS = {
  GITHUB: 'https://token.actions.githubusercontent.com',
  GITLAB: 'https://gitlab.com',
} as const;

/** Asymmetric algorithms only: an `HS256` token would be "signed" with a public key. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

export interface WorkloadDeps {
  users: UsersService;
  sessions: SessionsService;
  audit: AuditService;
  fetch: GuardedFetch;
  allowPrivateHosts: boolean;
  /** How long an issuer's discovery result is trusted before it is fetched again. */
  discoveryTtlMs?: number;
}

class Rejected extends Error {
  constructor(
    readonly reason: string,
    readonly unavailable = false,
  ) {
    super(reason);
  }
}

export function resolveIssuer(config: WorkloadIdentityConfig): string {
  const given = config.issuerUrl?.trim().replace(/\/+$/, '');
  if (given) return given;
  if (config.providerType === 'GITHUB' || config.providerType === 'GITLAB') return WORKLOAD_ISSUERS[config.providerType];
  throw new Rejected('issuer_missing');
}

/**
 * `POST /v1/auth:exchangeToken`: a CI job's OIDC token (GitHub Actions, GitLab CI, any issuer
 * with discovery + JWKS) becomes a Portcullis access token for a WORKLOAD_IDENTITY user.
 */
export function createWorkloadService(deps: WorkloadDeps) {
  const { users, sessions, audit } = deps;
  const jwksFetch = deps.fetch as unknown as NonNullable<Parameters<typeof createRemoteJWKSet>[1]>[typeof customFetch];
  const issuers = new LRUCache<string, Promise<JWTVerifyGetKey>>({ max: 200, ttl: deps.discoveryTtlMs ?? 3_600_000 });

  /** Discovery (issuer must match exactly) then a remote JWKS that refetches on an unknown `kid` (30 s cooldown). */
  async function discover(issuer: string): Promise<JWTVerifyGetKey> {
    const base = checkOutboundUrl(issuer, deps.allowPrivateHosts);
    const res = await deps.fetch(`${base.toString().replace(/\/+$/, '')}/.well-known/openid-configuration`, {
      headers: { accept: 'application/json' },
    });
    if (res.status !== 200) throw new Rejected(`discovery_status_${res.status}`, true);
    const doc = (await res.json().catch(() => undefined)) as { issuer?: unknown; jwks_uri?: unknown } | undefined;
    if (!doc || doc.issuer !== issuer || typeof doc.jwks_uri !== 'string') throw new Rejected('discovery_mismatch', true);
    const jwksUri = checkOutboundUrl(doc.jwks_uri, deps.allowPrivateHosts);
    return createRemoteJWKSet(jwksUri, { [customFetch]: jwksFetch, cooldownDuration: 30_000, cacheMaxAge: 600_000, timeoutDuration: 5000 });
  }

  function keysFor(issuer: string): Promise<JWTVerifyGetKey> {
    let entry = issuers.get(issuer);
    if (!entry) {
      entry = discover(issuer);
      entry.catch(() => issuers.delete(issuer));
      issuers.set(issuer, entry);
    }
    return entry;
  }

  async function verify(user: User, token: string): Promise<JWTPayload> {
    const config = user.workloadIdentityConfig as WorkloadIdentityConfig;
    const issuer = resolveIssuer(config);
    let keys: JWTVerifyGetKey;
    try {
      keys = await keysFor(issuer);
    } catch (err) {
      if (err instanceof Rejected) throw err;
      throw new Rejected(err instanceof OutboundError ? `outbound_${err.reason}` : 'discovery_failed', true);
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer,
        audience: config.allowedAudiences,
        algorithms: ALGORITHMS,
        requiredClaims: ['exp', 'iat', 'sub', 'aud'],
        clockTolerance: 5,
      }));
    } catch (err) {
      const e = err as { code?: string; claim?: string; cause?: unknown };
      if (e?.cause instanceof OutboundError || err instanceof OutboundError) throw new Rejected('jwks_unavailable', true);
      throw new Rejected(`${e?.code ?? 'invalid'}${e?.claim ? `:${e.claim}` : ''}`);
    }
    if (typeof payload.sub !== 'string' || !subjectMatches(config.subjectPattern, payload.sub)) throw new Rejected('subject_mismatch');
    return payload;
  }

  return {
    async exchange(ctx: RequestContext, input: { token: string; email: string }): Promise<{ accessToken: string; expiresIn: number }> {
      const email = input.email.trim().toLowerCase();
      const user = await users.lookup.findByEmail(email);
      if (user?.userType !== 'WORKLOAD_IDENTITY' || !user.workloadIdentityConfig || user.state !== 'ACTIVE') {
        await audit.record(ctx, {
          action: 'workload.token_rejected',
          organizationId: user?.organizationId ?? null,
          outcome: 'failure',
          data: { reason: 'unknown_identity', email: email.slice(0, 128) },
        });
        throw new AppError('resource.not_found', { detail: 'no such workload identity' });
      }
      const throttleKey = `workload:${user.id}`;
      await sessions.throttle.check(throttleKey, ctx.ip);
      let claims: JWTPayload;
      try {
        claims = await verify(user, input.token);
      } catch (err) {
        const rejected = err instanceof Rejected ? err : new Rejected('unexpected');
        if (!rejected.unavailable) await sessions.throttle.fail(throttleKey);
        await audit.recordFor(ctx, user, {
          action: 'workload.token_rejected',
          outcome: 'failure',
          data: { reason: rejected.reason },
        });
        if (rejected.unavailable) throw new AppError('idp.unavailable', { detail: rejected.reason });
        throw new AppError('auth.invalid_token', { detail: rejected.reason });
      }
      await sessions.throttle.succeed(throttleKey);
      const issued = await sessions.issueSession(ctx, user, { method: 'workload' });
      await users.recordLogin(user.id, ctx.now.toISOString());
      await audit.record(ctx, {
        action: 'workload.token_exchanged',
        organizationId: user.organizationId,
        targetType: 'session',
        targetId: issued.sessionId,
        actor: { type: 'user', id: user.id },
        data: { subject: String(claims.sub).slice(0, 200), issuer: String(claims.iss) },
      });
      return { accessToken: issued.token, expiresIn: issued.expiresIn };
    },
  };
}
export type WorkloadService = ReturnType<typeof createWorkloadService>;
