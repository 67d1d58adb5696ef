import { LRUCache } from 'lru-cache';
import type { AuditService } from '../audit/index.js';
import type { Principal, RequestContext, Restriction } from '../auth/index.js';
import { authorize, defaultScopes, type Scope, userTarget } from '../auth/index.js';
import type { Config } from '../config/index.js';
import { newId, type PasswordHasher, randomToken, sha256Hex } from '../crypto/index.js';
import { AppError, assertThat } from '../errors/index.js';
import type { EventBus } from '../events/index.js';
import type { OrganizationPolicy, OrganizationsService, User, UsersService } from '../identity/index.js';
import { normalizePassword } from '../identity/index.js';
import type { SessionsRepo } from './sessions.repo.js';
import { accountKey, identifierKey, type LoginThrottle } from './throttle.js';
import type { TokenIssuer } from './tokens.js';

export interface LoginInput {
  username?: string | undefined;
  email?: string | undefined;
  password?: string | undefined;
  web?: boolean | undefined;
  mfaTempToken?: string | undefined;
  otpCode?: string | undefined;
  recoveryCode?: string | undefined;
  idpName?: string | undefined;
  idpContext?: unknown;
}

export interface IssuedTokens {
  token: string;
  expiresIn: number;
  refreshToken: string;
  sessionId: string;
}

export interface LoginResult {
  user: User;
  tokens?: IssuedTokens;
  mfaTempToken?: string;
  requireResetPassword: boolean;
  restriction?: Restriction;
}

/**
 * Extension points of `POST /v1/auth/login` for the MFA and identity-provider domains.
 * Each is optional; without it the matching request fields are refused.
 */
export interface LoginSeams {
  /** `idpName` + `idpContext`: answers the local user the provider vouches for. */
  idp?: (ctx: RequestContext, input: LoginInput) => Promise<User>;
  /** After the first factor: a pending MFA challenge, an enrolment restriction, or nothing. */
  secondFactor?: (
    ctx: RequestContext,
    user: User,
    input: LoginInput,
  ) => Promise<{ mfaTempToken: string } | { restriction: Restriction } | undefined>;
  /** `mfaTempToken` + `otpCode | recoveryCode`: completes a pending login and answers its user. */
  completeMfa?: (ctx: RequestContext, input: LoginInput) => Promise<User>;
}

export interface SessionsDeps {
  config: Config;
  repo: SessionsRepo;
  users: UsersService;
  organizations: OrganizationsService;
  hasher: PasswordHasher;
  tokens: TokenIssuer;
  throttle: LoginThrottle;
  /** Carries `sessions.revoked` to every instance; brings `user.access_revoked` and password resets here. */
  events: EventBus;
  audit: AuditService;
  seams: LoginSeams;
}

/** Upper bound on trusting a cached "session is live" verdict if a revocation message were lost. */
const SESSION_CACHE_MS = 30_000;

export function createSessionsService(deps: SessionsDeps) {
  const { config, repo, users, organizations, hasher, tokens, throttle, events, audit } = deps;

  // Verified-token cache keyed by the token's hash, bounded by its `exp`, dropped on revocation.
  const verified = new LRUCache<string, { principal: Principal; sid: string }>({ max: 50_000, ttlAutopurge: false });
  const bySession = new Map<string, Set<string>>();
  const liveSessions = new LRUCache<string, true>({ max: 50_000, ttl: SESSION_CACHE_MS });

  function forgetSessions(ids: readonly string[]): void {
    for (const sid of ids) {
      liveSessions.delete(sid);
      for (const h of bySession.get(sid) ?? []) verified.delete(h);
      bySession.delete(sid);
    }
  }

  /** Revoked sessions stop verifying here at once and on every other instance within a second. */
  async function broadcastRevoked(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await events.broadcast('sessions.revoked', ids);
  }
  events.onBroadcast('sessions.revoked', (ids) => {
    if (Array.isArray(ids)) forgetSessions(ids.filter((v): v is string => typeof v === 'string'));
  });

  async function ownAccount(ctx: RequestContext): Promise<User> {
    const userId = ctx.principal?.kind === 'user' ? ctx.principal.userId : undefined;
    const user = userId ? await users.lookup.findById(userId) : undefined;
    if (!user) throw new AppError('auth.forbidden', { detail: 'sessions belong to users' });
    authorize(ctx.principal, 'self.manage_sessions', userTarget(user));
    return user;
  }

  async function revokeAllForUser(ctx: RequestContext, userId: string, reason: string, keep?: string): Promise<number> {
    const ids = await repo.revokeAllForUser(userId, ctx.now.toISOString(), reason, keep);
    await broadcastRevoked(ids);
    return ids.length;
  }
  events.on('user.access_revoked', async ({ ctx, userId, reason }) => {
    await revokeAllForUser(ctx, userId, reason);
  });
  // Why: a reset means the old password may be known to someone else; every session it opened ends.
  events.on('user.password_set', async ({ ctx, userId, kind }) => {
    if (kind === 'reset' && ctx) await revokeAllForUser(ctx, userId, 'password_reset');
  });

  async function sessionIsLive(sid: string, now: number): Promise<boolean> {
    if (liveSessions.has(sid)) return true;
    const s = await repo.findById(sid);
    const live = !!s && !s.revokedAt && Date.parse(s.expiresAt) > now;
    if (live) liveSessions.set(sid, true);
    return live;
  }

  function mustResetPassword(user: User, policy: OrganizationPolicy, now: Date): boolean {
    if (user.requireResetPassword) return true;
    if (policy.requireResetOnFirstLogin && !user.lastLoginAt && user.userType === 'USER') return true;
    if (policy.passwordRotationDays > 0 && user.passwordChangedAt) {
      return now.getTime() - Date.parse(user.passwordChangedAt) > policy.passwordRotationDays * 86_400_000;
    }
    return false;
  }

  async function signFor(user: User, sessionId: string, restriction: Restriction | null, now: Date) {
    return tokens.sign(
      {
        userId: user.id,
        organizationId: user.organizationId,
        sessionId,
        scopes: defaultScopes(user.roles),
        roles: user.roles,
        restriction,
      },
      now,
    );
  }

  /** Creates a session for a signed-in user and answers its tokens. */
  async function issueSession(
    ctx: RequestContext,
    user: User,
    options: { method: string; restriction?: Restriction | null },
  ): Promise<IssuedTokens> {
    const now = ctx.now;
    const sessionId = newId();
    const refreshToken = randomToken(32);
    await repo.insert(
      {
        id: sessionId,
        userId: user.id,
        organizationId: user.organizationId,
        restriction: options.restriction ?? null,
        method: options.method,
        ip: ctx.ip,
        userAgent: ctx.userAgent?.slice(0, 512) ?? null,
        createdAt: now.toISOString(),
        lastSeenAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + config.sessionAbsoluteTtlSeconds * 1000).toISOString(),
        revokedAt: null,
        revokedReason: null,
      },
      sha256Hex(refreshToken),
    );
    const access = await signFor(user, sessionId, options.restriction ?? null, now);
    return { token: access.token, expiresIn: access.expiresIn, refreshToken, sessionId };
  }

  /** Final step of every successful sign-in: restrictions, session, audit, last login. */
  async function completeSignIn(ctx: RequestContext, user: User, input: LoginInput, method: string): Promise<LoginResult> {
    if (input.web && user.userType === 'SERVICE_ACCOUNT') {
      await audit.recordFor(ctx, user, {
        action: 'session.login_failed',
        outcome: 'failure',
        data: { reason: 'service_account_web' },
      });
      throw new AppError('auth.web_login_not_allowed');
    }
    const policy = await organizations.policyOf(user.organizationId);
    let restriction: Restriction | undefined;
    if (method === 'password' || method === 'mfa') {
      const second = method === 'password' && deps.seams.secondFactor ? await deps.seams.secondFactor(ctx, user, input) : undefined;
      if (second && 'mfaTempToken' in second) {
        await audit.recordFor(ctx, user, {
          action: 'session.mfa_challenged',
          actor: { type: 'user', id: user.id },
        });
        return { user, mfaTempToken: second.mfaTempToken, requireResetPassword: false };
      }
      if (second && 'restriction' in second) restriction = second.restriction;
    }
    const requireResetPassword = method !== 'idp' && mustResetPassword(user, policy, ctx.now);
    if (requireResetPassword) restriction = 'password_change';
    const issued = await issueSession(ctx, user, { method, restriction: restriction ?? null });
    const lastLoginAt = ctx.now.toISOString();
    await users.recordLogin(user.id, lastLoginAt);
    await audit.record(ctx, {
      action: 'session.login_succeeded',
      organizationId: user.organizationId,
      targetType: 'session',
      targetId: issued.sessionId,
      actor: { type: 'user', id: user.id },
      data: { method, ...(restriction ? { restriction } : {}) },
    });
    return { user: { ...user, lastLoginAt }, tokens: issued, requireResetPassword, ...(restriction ? { restriction } : {}) };
  }

  /**
   * Password sign-in. A wrong password, an unknown user and a disabled user get the same
   * answer after the same work (a dummy argon2 verify for unknown users).
   */
  async function passwordLogin(ctx: RequestContext, input: LoginInput, narrowToOrg: string | undefined): Promise<LoginResult> {
    const email = input.email?.trim().toLowerCase();
    const username = input.username?.trim();
    const identifier = email || username;
    if (!identifier || input.password === undefined || input.password === '') {
      throw new AppError('request.invalid', {
        details: [identifier ? 'body.password' : 'body.username'],
        detail: 'identifier and password required',
      });
    }
    const typedKey = identifierKey(identifier);
    await throttle.check(typedKey, ctx.ip);
    const password = normalizePassword(input.password);
    const user = email ? await users.lookup.findByEmail(email) : await users.lookup.findByUserName(identifier);
    // Why: the user name and the email of one account are two spellings of one target; counting
    // only what was typed gave a guesser the free attempts twice.
    if (user) await throttle.check(accountKey(user.id));
    let ok = false;
    let reason = 'unknown_user';
    if (user?.passwordHash) {
      ok = await hasher.verify(user.passwordHash, password);
      // Why: a hash imported from another system (issue 20) was made over the password as typed, not
      // its NFKC form; the rehash below then stores the NFKC form like every hash made here.
      if (!ok && password !== input.password && hasher.needsRehash(user.passwordHash)) {
        ok = await hasher.verify(user.passwordHash, input.password);
      }
      reason = ok ? '' : 'wrong_password';
      if (ok && user.state !== 'ACTIVE') [ok, reason] = [false, 'inactive_user'];
      if (ok && user.userType === 'WORKLOAD_IDENTITY') [ok, reason] = [false, 'workload_identity'];
      if (ok && narrowToOrg && user.organizationId !== narrowToOrg) [ok, reason] = [false, 'other_organization'];
    } else {
      await hasher.verifyDummy(password);
      if (user) reason = 'no_password';
    }
    if (!ok || !user) {
      const backoff = await throttle.fail(user ? [typedKey, accountKey(user.id)] : [typedKey]);
      await audit.recordFor(ctx, user, {
        action: 'session.login_failed',
        outcome: 'failure',
        data: { reason, identifier: identifier.slice(0, 128) },
      });
      if (backoff) {
        await audit.record(ctx, {
          action: 'session.throttle_started',
          organizationId: user?.organizationId ?? null,
          outcome: 'failure',
          ...(user ? { targetType: 'user', targetId: user.id } : {}),
          data: { identifier: identifier.slice(0, 128), seconds: backoff },
        });
      }
      throw new AppError('auth.invalid_credentials', { detail: reason });
    }
    // A sign-in proves the password: every spelling of this account starts afresh.
    await throttle.succeed([
      typedKey,
      identifierKey(user.userName),
      ...(user.email ? [identifierKey(user.email)] : []),
      accountKey(user.id),
    ]);
    if (hasher.needsRehash(user.passwordHash as string)) {
      await users.upgradePasswordHash(user.id, password);
    }
    return completeSignIn(ctx, user, input, 'password');
  }

  return {
    issueSession,
    completeSignIn,
    throttle,

    /** The per-request token check: cache first, then signature and a (cached) session lookup. */
    async verifyAccessToken(token: string, via: 'bearer' | 'cookie'): Promise<Principal | undefined> {
      if (token.length > 4096) return undefined;
      const now = Date.now();
      const hash = sha256Hex(token);
      const hit = verified.get(hash);
      if (hit) return via === hit.principal.via ? hit.principal : { ...hit.principal, via };
      const claims = await tokens.verify(token);
      if (!claims || !(await sessionIsLive(claims.sid, now))) return undefined;
      const principal: Principal = {
        kind: 'user',
        userId: claims.sub,
        organizationId: claims.org,
        roles: claims.roles,
        scopes: new Set(claims.scope.split(' ').filter(Boolean) as Scope[]),
        isSuperadmin: claims.roles.includes('superadmin'),
        via,
        sessionId: claims.sid,
        ...(claims.rst ? { restriction: claims.rst as Restriction } : {}),
      };
      const ttl = claims.exp * 1000 - now;
      if (ttl > 0) {
        verified.set(hash, { principal, sid: claims.sid }, { ttl });
        let set = bySession.get(claims.sid);
        if (!set) bySession.set(claims.sid, (set = new Set()));
        set.add(hash);
      }
      return principal;
    },

    /** `POST /v1/auth/login`: password, MFA completion or identity provider. */
    async login(ctx: RequestContext, input: LoginInput, narrowToOrg?: string): Promise<LoginResult> {
      if (input.idpName !== undefined) {
        if (!deps.seams.idp)
          throw new AppError('request.invalid', { details: ['body.idpName'], detail: 'identity providers not available' });
        const user = await deps.seams.idp(ctx, input);
        if (narrowToOrg && user.organizationId !== narrowToOrg)
          throw new AppError('auth.invalid_credentials', { detail: 'other_organization' });
        const second = deps.seams.secondFactor ? await deps.seams.secondFactor(ctx, user, input) : undefined;
        if (second && 'mfaTempToken' in second) return { user, mfaTempToken: second.mfaTempToken, requireResetPassword: false };
        return completeSignIn(ctx, user, input, 'idp');
      }
      if (input.mfaTempToken !== undefined && input.password === undefined) {
        if (!deps.seams.completeMfa) throw new AppError('request.invalid', { details: ['body.mfaTempToken'] });
        const user = await deps.seams.completeMfa(ctx, input);
        if (narrowToOrg && user.organizationId !== narrowToOrg)
          throw new AppError('auth.invalid_credentials', { detail: 'other_organization' });
        return completeSignIn(ctx, user, input, 'mfa');
      }
      return passwordLogin(ctx, input, narrowToOrg);
    },

    /** Rotates a refresh token. Presenting an already-rotated one revokes the whole session. */
    async refresh(ctx: RequestContext, refreshToken: string): Promise<{ user: User; tokens: IssuedTokens }> {
      assertThat(refreshToken.length > 0 && refreshToken.length <= 512, 'auth.invalid_token', 'malformed refresh token');
      const hash = sha256Hex(refreshToken);
      const stored = await repo.findRefreshToken(hash);
      if (!stored) throw new AppError('auth.invalid_token', { detail: 'unknown refresh token' });
      const session = await repo.findById(stored.sessionId);
      if (!session) throw new AppError('auth.invalid_token', { detail: 'session gone' });
      const now = ctx.now;
      const reuse = async (): Promise<never> => {
        await repo.revoke(session.id, now.toISOString(), 'refresh_reuse');
        await broadcastRevoked([session.id]);
        await audit.record(ctx, {
          action: 'session.refresh_reused',
          organizationId: session.organizationId,
          outcome: 'failure',
          targetType: 'session',
          targetId: session.id,
          actor: { type: 'user', id: session.userId },
        });
        throw new AppError('auth.invalid_token', { detail: 'refresh token reuse' });
      };
      if (stored.rotatedAt) return reuse();
      if (session.revokedAt) throw new AppError('auth.invalid_token', { detail: 'session revoked' });
      if (Date.parse(session.expiresAt) <= now.getTime()) throw new AppError('auth.invalid_token', { detail: 'session expired' });
      if (now.getTime() - Date.parse(session.lastSeenAt) > config.sessionIdleTtlSeconds * 1000) {
        await repo.revoke(session.id, now.toISOString(), 'idle');
        throw new AppError('auth.invalid_token', { detail: 'session idle' });
      }
      const user = await users.lookup.findById(session.userId);
      if (!user || user.state !== 'ACTIVE') throw new AppError('auth.invalid_token', { detail: 'user inactive' });
      const next = randomToken(32);
      if (!(await repo.rotate(hash, sha256Hex(next), session.id, now.toISOString()))) return reuse();
      const access = await signFor(user, session.id, (session.restriction as Restriction | null) ?? null, now);
      return { user, tokens: { token: access.token, expiresIn: access.expiresIn, refreshToken: next, sessionId: session.id } };
    },

    /** Revokes a session (by id or by its refresh token). Idempotent. */
    async logout(ctx: RequestContext, target: { sessionId?: string | undefined; refreshToken?: string | undefined }): Promise<void> {
      let sessionId = target.sessionId;
      if (!sessionId && target.refreshToken && target.refreshToken.length <= 512) {
        sessionId = (await repo.findRefreshToken(sha256Hex(target.refreshToken)))?.sessionId;
      }
      if (!sessionId) return;
      const session = await repo.findById(sessionId);
      if (!session) return;
      if (await repo.revoke(sessionId, ctx.now.toISOString(), 'logout')) {
        await audit.record(ctx, {
          action: 'session.logged_out',
          organizationId: session.organizationId,
          targetType: 'session',
          targetId: sessionId,
          actor: { type: 'user', id: session.userId },
        });
      }
      await broadcastRevoked([sessionId]);
    },

    revokeAllForUser,

    /** The signed-in user's live sessions (`self.manage_sessions`: interactive sessions only). */
    async listOwn(ctx: RequestContext) {
      const user = await ownAccount(ctx);
      const current = ctx.principal?.sessionId;
      const rows = await repo.listLiveForUser(user.id, ctx.now.toISOString());
      return rows.map((s) => ({
        id: s.id,
        method: s.method,
        ip: s.ip,
        userAgent: s.userAgent,
        createdAt: s.createdAt,
        lastSeenAt: s.lastSeenAt,
        expiresAt: s.expiresAt,
        current: s.id === current,
      }));
    },

    /** Ends one of the signed-in user's sessions; another user's id is a 404. */
    async revokeOwn(ctx: RequestContext, sessionId: string): Promise<void> {
      const user = await ownAccount(ctx);
      const session = await repo.findById(sessionId);
      if (!session || session.userId !== user.id) throw new AppError('resource.not_found', { detail: 'session' });
      if (await repo.revoke(session.id, ctx.now.toISOString(), 'revoked_by_user')) {
        await audit.record(ctx, {
          action: 'session.logged_out',
          organizationId: session.organizationId,
          targetType: 'session',
          targetId: session.id,
          data: { from: session.id === ctx.principal?.sessionId ? 'this_session' : 'another_session' },
        });
      }
      await broadcastRevoked([session.id]);
    },

    /**
     * `POST /v1/auth/password`: checks the current password (throttled like a login), applies the
     * policy, revokes every session of the user and answers a fresh, unrestricted one.
     */
    async changePassword(ctx: RequestContext, currentPassword: string, newPassword: string): Promise<{ user: User; tokens: IssuedTokens }> {
      const p = ctx.principal;
      assertThat(p && p.kind === 'user', 'auth.forbidden', 'password change needs a user session');
      const user = await users.lookup.findById(p.userId);
      assertThat(user?.passwordHash && user.state === 'ACTIVE', 'auth.invalid_credentials', 'no password');
      const throttleKey = `pwchange:${user.id}`;
      await throttle.check(throttleKey, ctx.ip);
      if (!(await hasher.verify(user.passwordHash, normalizePassword(currentPassword)))) {
        await throttle.fail(throttleKey);
        await audit.recordFor(ctx, user, {
          action: 'user.password_change_failed',
          outcome: 'failure',
        });
        throw new AppError('auth.invalid_credentials', { detail: 'wrong current password' });
      }
      await throttle.succeed(throttleKey);
      await users.validateNewPassword(user.organizationId, newPassword, user);
      if (await hasher.verify(user.passwordHash, normalizePassword(newPassword))) {
        throw new AppError('password.policy_violation', { details: ['body.newPassword'], detail: 'same as current' });
      }
      const now = ctx.now.toISOString();
      const fresh = await users.changeOwnPassword(ctx, user, newPassword);
      const revoked = await repo.revokeAllForUser(user.id, now, 'password_changed');
      await broadcastRevoked(revoked);
      await audit.recordFor(ctx, user, {
        action: 'user.password_changed',
        data: { revokedSessions: revoked.length },
      });
      const tokensOut = await issueSession(ctx, fresh, { method: 'password_change' });
      return { user: fresh, tokens: tokensOut };
    },
  };
}
export type SessionsService = ReturnType<typeof createSessionsService>;
