import { LRUCache } from 'lru-cache';
import type { AuditService } from '../../audit/index.js';
import {
  authorize,
  defaultScopes,
  grantableScopes,
  type Principal,
  RANK,
  type RequestContext,
  rankOf,
  type Scope,
  scopesFromPermissions,
  userTarget,
} from '../../auth/index.js';
import { constantTimeEqual, randomToken, sha256Hex } from '../../crypto/index.js';
import { AppError, assertThat } from '../../errors/index.js';
import type { EventBus } from '../../events/index.js';
import { ownProps } from '../../http/index.js';
import type { Logger } from '../../log/index.js';
import type { UsersLookup } from '../users/users.service.js';
import type { ApiKey, ApiKeysRepo } from './api-keys.repo.js';

export interface ApiKeysDeps {
  repo: ApiKeysRepo;
  users: UsersLookup;
  audit: AuditService;
  /** Carries `api_keys.changed` to every instance, and `user.access_revoked` to here. */
  events: EventBus;
  log: Logger;
}

export interface CreateApiKeyInput {
  name: string;
  description?: string | undefined;
  scopes?: Scope[] | undefined;
  permissions?: number | undefined;
  expireDate?: string | undefined;
}

const SECRET_PREFIX = 'pcs_';
/** How long a verified key stays cached; revocation flushes it at once on every instance. */
const CACHE_TTL_MS = 30_000;
/** Last use is written at most this often per key, off the request path. */
const TOUCH_EVERY_MS = 60_000;

export function createApiKeysService(deps: ApiKeysDeps) {
  const { repo, users, audit, events, log } = deps;
  const cache = new LRUCache<string, { principal: Principal; expiresAt: number }>({ max: 10_000, ttl: CACHE_TTL_MS });
  const touched = new Map<number, number>();

  const effectiveScopes = (key: ApiKey, ownerRoles: readonly string[]): Set<Scope> => {
    const grantable = grantableScopes(ownerRoles);
    const wanted = key.scopes ?? [...defaultScopes(ownerRoles)];
    return new Set(wanted.filter((s) => grantable.has(s)));
  };

  async function toPrincipal(key: ApiKey, via: Principal['via'], now: number): Promise<Principal | undefined> {
    if (key.revokedAt) return undefined;
    if (key.expiresAt && Date.parse(key.expiresAt) <= now) return undefined;
    const owner = await users.findById(key.ownerId);
    if (!owner || owner.state !== 'ACTIVE' || owner.organizationId !== key.organizationId) return undefined;
    const last = touched.get(key.id) ?? (key.lastUsedAt ? Date.parse(key.lastUsedAt) : 0);
    if (now - last > TOUCH_EVERY_MS) {
      touched.set(key.id, now);
      // Recorded without slowing the request: not awaited; a failure only loses a "last used" time.
      repo.touch(key.id, new Date(now).toISOString()).catch((err: unknown) => {
        log.warn({ apiKeyId: key.id, reason: err instanceof Error ? err.message : 'unknown' }, 'could not record API key use');
      });
    }
    return {
      kind: 'api_key',
      userId: owner.id,
      organizationId: key.organizationId,
      roles: owner.roles,
      scopes: effectiveScopes(key, owner.roles),
      isSuperadmin: owner.roles.includes('superadmin'),
      via,
      apiKeyId: key.id,
    };
  }

  async function verifyCached(
    secretHash: string,
    via: Principal['via'],
    lookup: () => Promise<ApiKey | undefined>,
    check: (k: ApiKey) => boolean,
  ) {
    const now = Date.now();
    const hit = cache.get(`${via}:${secretHash}`);
    if (hit && hit.expiresAt > now) return hit.principal;
    const key = await lookup();
    if (!key || !check(key)) return undefined;
    const principal = await toPrincipal(key, via, now);
    if (principal) {
      const expiresAt = key.expiresAt ? Math.min(Date.parse(key.expiresAt), now + CACHE_TTL_MS) : now + CACHE_TTL_MS;
      cache.set(`${via}:${secretHash}`, { principal, expiresAt });
    }
    return principal;
  }

  // Cached verdicts are dropped on every instance whenever a key or its owner changes.
  const flushEverywhere = (): Promise<void> => events.broadcast('api_keys.changed', true);
  events.onBroadcast('api_keys.changed', () => cache.clear());
  events.on('user.access_revoked', ({ ctx, userId }) => revokeAllForOwner(ctx, userId));

  /** Ends every key of a user (deactivation, demotion, an administrator's password set), on every instance. */
  async function revokeAllForOwner(ctx: RequestContext, ownerId: string): Promise<void> {
    await repo.revokeAllForOwner(ownerId, ctx.now.toISOString());
    await flushEverywhere();
  }

  return {
    /** `x-api-key: <secret>` or `Authorization: Bearer <secret>`. */
    verifySecret(secret: string, via: 'bearer' | 'api_key'): Promise<Principal | undefined> {
      if (!secret.startsWith(SECRET_PREFIX) || secret.length > 200) return Promise.resolve(undefined);
      const hash = sha256Hex(secret);
      return verifyCached(
        hash,
        via,
        () => repo.findBySecretHash(hash),
        (k) => constantTimeEqual(k.secretHash, hash),
      );
    },
    /** `Authorization: Basic base64(key:secret)`. */
    verifyBasic(publicKey: string, secret: string): Promise<Principal | undefined> {
      if (publicKey.length > 200 || secret.length > 200) return Promise.resolve(undefined);
      const hash = sha256Hex(secret);
      return verifyCached(
        sha256Hex(`${publicKey}:${hash}`),
        'basic',
        () => repo.findByPublicKey(publicKey),
        (k) => constantTimeEqual(k.secretHash, hash),
      );
    },
    /** Creates a key for the caller (or, for administrators, `ownerId`). The secret is returned only here. */
    async create(ctx: RequestContext, body: CreateApiKeyInput): Promise<{ apiKey: ApiKey; clientSecret: string }> {
      const input = ownProps(body);
      const p = ctx.principal;
      if (!p) throw new AppError('auth.unauthenticated');
      const owner = await users.findById(p.userId);
      assertThat(owner && owner.state === 'ACTIVE', 'auth.unauthenticated');
      authorize(p, 'api_key.create', userTarget(owner));
      let scopes: Scope[] | null = null;
      if (input.scopes) scopes = [...new Set(input.scopes)];
      else if (input.permissions !== undefined) scopes = scopesFromPermissions(input.permissions);
      // A key can never hold more than its owner, nor more than the key that creates it.
      const ceiling = grantableScopes(owner.roles);
      const requested = scopes ?? [...defaultScopes(owner.roles)];
      const beyond = requested.filter((s) => !ceiling.has(s) || (p.kind === 'api_key' && !p.scopes.has(s)));
      if (beyond.length > 0) {
        // The refused scopes are named: a key cannot mint a key with more than it holds (a reveal key
        // comes from a signed-in session), and the caller should see which scope was the problem.
        throw new AppError('auth.forbidden', {
          details: beyond.map((s) => `body.scopes: ${s}`),
          detail: `scopes beyond the ${p.kind === 'api_key' ? 'creating key' : 'owner'}: ${beyond.join(',')}`,
        });
      }
      if (scopes === null && p.kind === 'api_key') scopes = [...p.scopes];
      if (input.expireDate !== undefined) {
        const t = Date.parse(input.expireDate);
        if (Number.isNaN(t) || t <= ctx.now.getTime()) throw new AppError('request.invalid', { details: ['body.expireDate'] });
      }
      const clientSecret = `${SECRET_PREFIX}${randomToken(32)}`;
      const apiKey = await repo.insert({
        organizationId: p.organizationId,
        ownerId: owner.id,
        name: input.name.trim(),
        description: input.description ?? null,
        publicKey: `pk_${randomToken(16)}`,
        secretHash: sha256Hex(clientSecret),
        secretPrefix: clientSecret.slice(0, 8),
        scopes,
        createdAt: ctx.now.toISOString(),
        expiresAt: input.expireDate ? new Date(input.expireDate).toISOString() : null,
        revokedAt: null,
        lastUsedAt: null,
      });
      await audit.record(ctx, {
        action: 'api_key.created',
        organizationId: p.organizationId,
        targetType: 'api_key',
        targetId: String(apiKey.id),
        data: { name: apiKey.name, scopes: scopes ?? 'owner-default' },
      });
      return { apiKey, clientSecret };
    },
    /** Administrators see the organization's keys; members their own. */
    async list(ctx: RequestContext): Promise<ApiKey[]> {
      const p = ctx.principal;
      if (!p) throw new AppError('auth.unauthenticated');
      return repo.list(p.organizationId, rankOf(p.roles) >= RANK.admin ? undefined : p.userId);
    },
    listForOwner: (organizationId: string, ownerId: string) => repo.list(organizationId, ownerId),
    async revoke(ctx: RequestContext, id: number): Promise<void> {
      const p = ctx.principal;
      if (!p) throw new AppError('auth.unauthenticated');
      const key = await repo.findById(id);
      const owner = key && (await users.findById(key.ownerId));
      // Why: a key of another organization, or one a member may not even list, does not exist for the caller.
      if (!key || !owner || key.organizationId !== p.organizationId || (rankOf(p.roles) < RANK.admin && key.ownerId !== p.userId)) {
        throw new AppError('resource.not_found');
      }
      authorize(p, 'api_key.revoke', userTarget(owner));
      await repo.revoke(id, ctx.now.toISOString());
      await flushEverywhere();
      await audit.record(ctx, { action: 'api_key.revoked', organizationId: p.organizationId, targetType: 'api_key', targetId: String(id) });
    },
    /** Drops cached key verdicts on every instance (owner deleted, roles changed). */
    flushCache: flushEverywhere,
    revokeAllForOwner,
  };
}
export type ApiKeysService = ReturnType<typeof createApiKeysService>;
