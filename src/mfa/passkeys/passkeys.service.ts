import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import type { AuditService } from '../../audit/index.js';
import { authorize, type RequestContext, userTarget } from '../../auth/index.js';
import { newId, randomToken, sha256Hex } from '../../crypto/index.js';
import { AppError } from '../../errors/index.js';
import type { User, UsersService } from '../../identity/index.js';
import type { LoginThrottle } from '../../sessions/index.js';
import type { SharedState } from '../../state/index.js';
import type { MfaRepo } from '../mfa.repo.js';
import type { PasskeyRow, PasskeysRepo } from './passkeys.repo.js';

/** The relying party: the public URL's host is the RP ID, its origin the only accepted origin. */
export interface PasskeyOptions {
  rpId: string;
  rpName: string;
  origin: string;
  /** `config.mfa.challengeMaxAttempts`: an mfaTempToken completed with a passkey is consumed like one with a code. */
  challengeMaxAttempts: number;
}

export interface PasskeysDeps {
  repo: PasskeysRepo;
  mfaRepo: MfaRepo;
  users: UsersService;
  audit: AuditService;
  state: SharedState;
  throttle: LoginThrottle;
  options: PasskeyOptions;
}

export interface PasskeyView {
  id: string;
  name: string;
  deviceType: string;
  backedUp: boolean;
  transports: string[];
  createdAt: string;
  lastUsedAt: string | null;
  cloneSuspected: boolean;
}

const CEREMONY_TTL_SECONDS = 300;
const MAX_PASSKEYS = 20;
const regKey = (userId: string) => `webauthn:reg:${userId}`;
const authKey = (flowId: string) => `webauthn:auth:${flowId}`;
const passkeyThrottleKey = (ip: string) => `passkey:${ip}`;

const parseTransports = (raw: string): string[] => {
  try {
    const v: unknown = JSON.parse(raw);
    return Array.isArray(v) ? v.filter((t): t is string => typeof t === 'string') : [];
  } catch {
    return [];
  }
};

export const presentPasskey = (row: PasskeyRow): PasskeyView => ({
  id: row.id,
  name: row.name,
  deviceType: row.deviceType,
  backedUp: row.backedUp === 1,
  transports: parseTransports(row.transports),
  createdAt: row.createdAt,
  lastUsedAt: row.lastUsedAt,
  cloneSuspected: row.cloneSuspectedAt !== null,
});

/**
 * Passkeys (WebAuthn, @simplewebauthn/server): registration and management by the signed-in user
 * (`self.manage_passkeys`, interactive sessions only), and sign-in — as the second step after a
 * password (`mfaTempToken`), or alone with a discoverable credential and user verification.
 * Ceremony challenges live in shared state for five minutes and are used once. The signature
 * counter is checked on every use: a counter that does not move forward marks the passkey as
 * cloned (audited), and it no longer signs in.
 */
export function createPasskeysService(deps: PasskeysDeps) {
  const { repo, mfaRepo, users, audit, state, throttle, options } = deps;

  async function self(ctx: RequestContext): Promise<User> {
    const userId = ctx.principal?.userId;
    const user = userId ? await users.lookup.findById(userId) : undefined;
    if (!user) throw new AppError('auth.unauthenticated', { detail: 'no user' });
    authorize(ctx.principal, 'self.manage_passkeys', userTarget(user));
    return user;
  }

  /** Takes a ceremony's stored value once (a second request with it finds nothing). */
  async function take(key: string): Promise<string | undefined> {
    const value = await state.get(key);
    if (value === undefined) return undefined;
    await state.del(key);
    return value;
  }

  async function refuse(ctx: RequestContext, user: User | undefined, reason: string): Promise<never> {
    await throttle.fail(passkeyThrottleKey(ctx.ip));
    if (user) await audit.recordFor(ctx, user, { action: 'mfa.passkey_failed', outcome: 'failure', data: { reason } });
    throw new AppError('auth.invalid_credentials', { detail: `passkey: ${reason}` });
  }

  return {
    async list(ctx: RequestContext): Promise<PasskeyView[]> {
      const user = await self(ctx);
      return (await repo.listForUser(user.id)).map(presentPasskey);
    },

    async registrationOptions(ctx: RequestContext) {
      const user = await self(ctx);
      if (user.userType !== 'USER') throw new AppError('request.invalid', { detail: 'passkeys are for people' });
      const existing = await repo.listForUser(user.id);
      if (existing.length >= MAX_PASSKEYS) throw new AppError('request.invalid', { detail: 'too many passkeys' });
      const opts = await generateRegistrationOptions({
        rpName: options.rpName,
        rpID: options.rpId,
        userName: user.email ?? user.userName,
        userDisplayName: [user.firstName, user.lastName].filter(Boolean).join(' ') || user.userName,
        userID: new TextEncoder().encode(user.id),
        attestationType: 'none',
        excludeCredentials: existing.map((p) => ({ id: p.credentialId, transports: parseTransports(p.transports) })),
        // Discoverable, so that the passkey also signs in without a user name.
        authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
        timeout: CEREMONY_TTL_SECONDS * 1000,
      });
      await state.set(regKey(user.id), opts.challenge, CEREMONY_TTL_SECONDS);
      return opts;
    },

    async register(ctx: RequestContext, body: { name?: string | undefined; response: RegistrationResponseJSON }): Promise<PasskeyView> {
      const user = await self(ctx);
      const challenge = await take(regKey(user.id));
      if (!challenge) throw new AppError('request.invalid', { details: ['body.response'], detail: 'no registration in progress' });
      let verification: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
      try {
        verification = await verifyRegistrationResponse({
          response: body.response,
          expectedChallenge: challenge,
          expectedOrigin: options.origin,
          expectedRPID: options.rpId,
          requireUserVerification: false,
        });
      } catch (cause) {
        throw new AppError('request.invalid', { details: ['body.response'], detail: 'registration not verified', cause });
      }
      if (!verification.verified)
        throw new AppError('request.invalid', { details: ['body.response'], detail: 'registration not verified' });
      const info = verification.registrationInfo;
      if (await repo.findByCredentialId(info.credential.id)) {
        throw new AppError('resource.conflict', { details: ['body.response'], detail: 'credential already registered' });
      }
      const count = (await repo.listForUser(user.id)).length;
      const row: PasskeyRow = {
        id: newId(),
        userId: user.id,
        organizationId: user.organizationId,
        credentialId: info.credential.id,
        publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
        signCount: info.credential.counter,
        transports: JSON.stringify(info.credential.transports ?? []),
        name: body.name?.trim() || `Passkey ${count + 1}`,
        deviceType: info.credentialDeviceType,
        backedUp: info.credentialBackedUp ? 1 : 0,
        createdAt: ctx.now.toISOString(),
        lastUsedAt: null,
        cloneSuspectedAt: null,
      };
      await repo.insert(row);
      await audit.recordFor(ctx, user, {
        action: 'mfa.passkey_registered',
        outcome: 'success',
        data: { passkeyId: row.id, deviceType: row.deviceType, backedUp: info.credentialBackedUp },
      });
      return presentPasskey(row);
    },

    async rename(ctx: RequestContext, id: string, name: string): Promise<PasskeyView> {
      const user = await self(ctx);
      const row = await repo.findForUser(user.id, id);
      if (!row) throw new AppError('resource.not_found', { detail: 'passkey' });
      await repo.rename(row.id, name.trim());
      await audit.recordFor(ctx, user, { action: 'mfa.passkey_renamed', outcome: 'success', data: { passkeyId: row.id } });
      return presentPasskey({ ...row, name: name.trim() });
    },

    async remove(ctx: RequestContext, id: string): Promise<void> {
      const user = await self(ctx);
      const row = await repo.findForUser(user.id, id);
      if (!row) throw new AppError('resource.not_found', { detail: 'passkey' });
      await repo.remove(row.id);
      await audit.recordFor(ctx, user, { action: 'mfa.passkey_removed', outcome: 'success', data: { passkeyId: row.id } });
    },

    /**
     * Options for `navigator.credentials.get()`. With an `mfaTempToken` (the second step after a
     * password) they name that user's passkeys; without, any discoverable passkey may answer.
     */
    async authenticationOptions(ctx: RequestContext, input: { mfaTempToken?: string | undefined }) {
      await throttle.check(passkeyThrottleKey(ctx.ip));
      let userId: string | undefined;
      let allow: PasskeyRow[] = [];
      if (input.mfaTempToken) {
        const challenge = await mfaRepo.findChallenge(sha256Hex(input.mfaTempToken));
        if (!challenge || challenge.usedAt || challenge.expiresAt <= ctx.now.toISOString()) {
          throw new AppError('auth.invalid_token', { detail: 'mfaTempToken unusable' });
        }
        userId = challenge.userId;
        allow = (await repo.listForUser(userId)).filter((p) => p.cloneSuspectedAt === null);
      }
      const opts = await generateAuthenticationOptions({
        rpID: options.rpId,
        userVerification: userId ? 'preferred' : 'required',
        allowCredentials: allow.map((p) => ({ id: p.credentialId, transports: parseTransports(p.transports) as never })),
        timeout: CEREMONY_TTL_SECONDS * 1000,
      });
      const flowId = randomToken(24);
      await state.set(authKey(flowId), JSON.stringify({ challenge: opts.challenge, userId: userId ?? null }), CEREMONY_TTL_SECONDS);
      return { flowId, options: opts };
    },

    /**
     * Verifies an assertion. Answers the user and how they signed in: `mfa` (the passkey completed
     * a password sign-in, whose mfaTempToken is consumed) or `passkey` (passwordless).
     */
    async authenticate(
      ctx: RequestContext,
      body: { flowId: string; response: AuthenticationResponseJSON; mfaTempToken?: string | undefined },
    ): Promise<{ user: User; method: 'mfa' | 'passkey' }> {
      await throttle.check(passkeyThrottleKey(ctx.ip), ctx.ip);
      const raw = await take(authKey(body.flowId));
      if (!raw) return refuse(ctx, undefined, 'unknown or used flow');
      const flow = JSON.parse(raw) as { challenge: string; userId: string | null };
      const row = await repo.findByCredentialId(body.response.id);
      if (!row) return refuse(ctx, undefined, 'unknown credential');
      const user = await users.lookup.findById(row.userId);
      if (!user || user.state !== 'ACTIVE') return refuse(ctx, undefined, 'user inactive');
      if (flow.userId !== null && flow.userId !== row.userId) return refuse(ctx, user, 'credential of another user');
      if (flow.userId === null && body.mfaTempToken) return refuse(ctx, user, 'mfaTempToken without its flow');
      if (row.cloneSuspectedAt) return refuse(ctx, user, 'clone suspected');
      let verification: Awaited<ReturnType<typeof verifyAuthenticationResponse>>;
      try {
        verification = await verifyAuthenticationResponse({
          response: body.response,
          expectedChallenge: flow.challenge,
          expectedOrigin: options.origin,
          expectedRPID: options.rpId,
          credential: {
            id: row.credentialId,
            publicKey: new Uint8Array(Buffer.from(row.publicKey, 'base64url')),
            counter: row.signCount,
            transports: parseTransports(row.transports) as never,
          },
          // Passwordless: the passkey is both factors only when the authenticator verified the person.
          requireUserVerification: flow.userId === null,
        });
      } catch (err) {
        if (err instanceof Error && /counter value/i.test(err.message)) {
          await repo.markCloned(row.id, ctx.now.toISOString());
          await audit.recordFor(ctx, user, {
            action: 'mfa.passkey_clone_suspected',
            outcome: 'failure',
            data: { passkeyId: row.id, storedCount: row.signCount },
          });
          return refuse(ctx, user, 'counter did not advance');
        }
        return refuse(ctx, user, 'assertion not verified');
      }
      if (!verification.verified) return refuse(ctx, user, 'assertion not verified');
      if (!(await repo.recordUse(row.id, row.signCount, verification.authenticationInfo.newCounter, ctx.now.toISOString()))) {
        return refuse(ctx, user, 'concurrent use');
      }
      let method: 'mfa' | 'passkey' = 'passkey';
      if (flow.userId !== null) {
        const token = body.mfaTempToken ?? '';
        const hash = sha256Hex(token);
        const challenge = token ? await mfaRepo.findChallenge(hash) : undefined;
        if (challenge?.userId !== user.id) return refuse(ctx, user, 'mfaTempToken of another user');
        // Single use, like a code: of two requests holding one token only one passes.
        if (!(await mfaRepo.consumeChallenge(hash, ctx.now.toISOString(), options.challengeMaxAttempts))) {
          throw new AppError('auth.invalid_token', { detail: 'mfaTempToken unusable' });
        }
        method = 'mfa';
      }
      await throttle.succeed(passkeyThrottleKey(ctx.ip));
      await audit.recordFor(ctx, user, {
        action: 'mfa.passkey_used',
        outcome: 'success',
        data: { passkeyId: row.id, as: method === 'mfa' ? 'second_factor' : 'passwordless' },
      });
      return { user, method };
    },
  };
}
export type PasskeysService = ReturnType<typeof createPasskeysService>;
