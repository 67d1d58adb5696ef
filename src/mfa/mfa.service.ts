import type { AuditService } from '../audit/index.js';
import { authorize, type RequestContext, type Restriction, userTarget } from '../auth/index.js';
import type { Config } from '../config/index.js';
import { generateTotpSecret, type MasterKeyring, matchTotp, otpauthUri, qrCodeDataUrl, randomToken, sha256Hex } from '../crypto/index.js';
import { AppError, assertThat } from '../errors/index.js';
import type { OrganizationsService, User, UsersService } from '../identity/index.js';
import type { LoginInput, ProfileUpdateBody } from '../sessions/index.js';
import { identifierKey, type LoginThrottle } from '../sessions/index.js';
import type { Notifier } from './email/notify.js';
import type { MfaRepo } from './mfa.repo.js';
import { activeAad, pendingAad } from './mfa.sealed.js';
import { generateRecoveryCodes, hashRecoveryCode, matchRecoveryCode } from './recovery-codes.js';

/** Challenge lifetime and attempts, pending-secret lifetime and otpauth issuer: `PORTCULLIS_MFA_*` (config/schema.ts). */
export type MfaOptions = Config['mfa'];

export interface MfaDeps {
  /** `storage.transaction`: the repos below join it. */
  transaction: <T>(fn: () => Promise<T>) => Promise<T>;
  repo: MfaRepo;
  keyring: MasterKeyring;
  users: UsersService;
  organizations: OrganizationsService;
  /** The sign-in throttle: wrong codes count toward the account's back-off. */
  throttle: LoginThrottle;
  audit: AuditService;
  notifier: Notifier;
  options: MfaOptions;
  /** Removes a user's passkeys (an administrator's MFA reset removes every factor). */
  removeAllPasskeys?: (userId: string) => Promise<number>;
}

type Factor = 'totp' | 'recovery_code';

/** Fields `mfaUpdate` adds to the returned user (shown once, at the moment they are made). */
export type EnrollmentView = {
  tempOtpSecret?: string;
  tempRecoveryCodes?: string[];
  tempOtpSecretCreatedTime?: string;
  otpAuthUri?: string;
  qrCodeDataUrl?: string;
  recoveryCodesRemaining?: number;
};

/** Every account's MFA failures are also counted under this key, which a correct password does not clear. */
const mfaThrottleKey = (userId: string): string => `mfa:${userId}`;

/**
 * TOTP enrolment and verification, recovery codes, and the `mfaTempToken` second step of
 * `POST /v1/auth/login`. Plugs into the sessions domain through `loginSeams` and `accountSeams`.
 */
export function createMfaService(deps: MfaDeps) {
  const { transaction, repo, keyring, users, organizations, throttle, audit, notifier } = deps;
  const { options } = deps;

  const openSecret = (sealed: string, aad: string): string => keyring.unwrap(sealed, aad).toString('utf8');

  /** Counts a wrong code: audited, and toward the account's throttle (its MFA key and the sign-in identifier). */
  async function codeFailed(ctx: RequestContext, user: User, reason: string, identifier?: string): Promise<void> {
    const backoff = await throttle.fail([mfaThrottleKey(user.id), ...(identifier ? [identifierKey(identifier)] : [])]);
    await audit.recordFor(ctx, user, {
      action: 'mfa.code_failed',
      outcome: 'failure',
      data: { reason, ...(backoff ? { backoffSeconds: backoff } : {}) },
    });
  }

  /**
   * Verifies a second factor of an enrolled user: a TOTP code (each step accepted once) or, when
   * allowed, an unused recovery code (used up here). Throws `auth.invalid_mfa_code` otherwise.
   */
  async function verifyFactor(
    ctx: RequestContext,
    user: User,
    input: { otpCode?: string | undefined; recoveryCode?: string | undefined },
    opts: { allowRecovery: boolean; identifier?: string },
  ): Promise<Factor> {
    await throttle.check(mfaThrottleKey(user.id), ctx.ip);
    let reason = 'no_code';
    if (input.otpCode) {
      const mfa = await repo.findByUserId(user.id);
      if (mfa?.secretSealed) {
        const step = matchTotp(openSecret(mfa.secretSealed, activeAad(user.id)), input.otpCode, ctx.now.getTime());
        // Why: the conditional update refuses a step at or before the last accepted one, so a code
        // (or an older one) cannot be replayed, even by two requests racing each other.
        if (step !== undefined && (await repo.claimStep(user.id, step))) {
          await throttle.succeed(mfaThrottleKey(user.id));
          return 'totp';
        }
        reason = step === undefined ? 'wrong_totp' : 'replayed_totp';
      } else reason = 'not_enrolled';
    } else if (input.recoveryCode && opts.allowRecovery) {
      const match = matchRecoveryCode(await repo.listUnusedRecoveryCodes(user.id), input.recoveryCode);
      if (match && (await repo.useRecoveryCode(match.id, ctx.now.toISOString()))) {
        await throttle.succeed(mfaThrottleKey(user.id));
        await audit.recordFor(ctx, user, {
          action: 'mfa.recovery_code_used',
          actor: { type: 'user', id: user.id },
          data: { remaining: await repo.countUnusedRecoveryCodes(user.id) },
        });
        return 'recovery_code';
      }
      reason = 'wrong_recovery_code';
    }
    await codeFailed(ctx, user, reason, opts.identifier);
    throw new AppError('auth.invalid_mfa_code', { detail: reason });
  }

  async function startEnrollment(ctx: RequestContext, user: User): Promise<EnrollmentView> {
    const secret = generateTotpSecret();
    const codes = generateRecoveryCodes();
    const createdAt = ctx.now.toISOString();
    await repo.upsertPending(user.id, {
      secretSealed: keyring.wrap(secret, pendingAad(user.id)),
      recoveryHashes: codes.map(hashRecoveryCode),
      createdAt,
    });
    await audit.recordFor(ctx, user, {
      action: 'mfa.enrollment_started',
    });
    const uri = otpauthUri(secret, options.issuer, user.email ?? user.userName);
    return {
      tempOtpSecret: secret,
      tempRecoveryCodes: codes,
      tempOtpSecretCreatedTime: createdAt,
      otpAuthUri: uri,
      qrCodeDataUrl: await qrCodeDataUrl(uri),
    };
  }

  /** `{otpCode, user: {mfaEnabled: true}}`: the pending secret and codes become the active ones. */
  async function confirmEnrollment(ctx: RequestContext, user: User, otpCode: string): Promise<EnrollmentView> {
    const mfa = await repo.findByUserId(user.id);
    const pending = mfa?.pendingSecretSealed;
    const createdAt = mfa?.pendingCreatedAt ? Date.parse(mfa.pendingCreatedAt) : Number.NaN;
    if (!pending || !(ctx.now.getTime() - createdAt < options.pendingSecretTtlSeconds * 1000)) {
      throw new AppError('mfa.no_pending_enrollment', { details: ['body.regenerateTempMfaSecret'], detail: pending ? 'expired' : 'none' });
    }
    await throttle.check(mfaThrottleKey(user.id), ctx.ip);
    const secret = openSecret(pending, pendingAad(user.id));
    const step = matchTotp(secret, otpCode, ctx.now.getTime());
    if (step === undefined) {
      await codeFailed(ctx, user, 'wrong_enrollment_totp');
      throw new AppError('auth.invalid_mfa_code', { detail: 'wrong enrolment code' });
    }
    const hashes = JSON.parse(mfa.pendingRecoveryHashes ?? '[]') as string[];
    const now = ctx.now.toISOString();
    const reEnrolled = user.mfaEnabled;
    await transaction(async () => {
      const ok = await repo.activatePending(user.id, pending, keyring.wrap(secret, activeAad(user.id)), step, now);
      if (!ok) throw new AppError('mfa.no_pending_enrollment', { detail: 'pending enrolment changed concurrently' });
      await repo.replaceRecoveryCodes(user.id, hashes, now);
      await users.setMfaEnabled(ctx, user, true);
      await audit.recordFor(ctx, user, {
        action: 'mfa.enrolled',
        data: { factor: 'totp', reEnrolled, recoveryCodes: hashes.length },
      });
    });
    await throttle.succeed(mfaThrottleKey(user.id));
    return { recoveryCodesRemaining: hashes.length };
  }

  async function disable(ctx: RequestContext, user: User, factor: Factor): Promise<void> {
    const now = ctx.now.toISOString();
    await transaction(async () => {
      await repo.deleteAllForUser(user.id);
      await users.setMfaEnabled(ctx, user, false);
      await audit.recordFor(ctx, user, {
        action: 'mfa.disabled',
        data: { factor },
      });
    });
    notifier.sendInBackground(ctx, user, 'mfa_disabled', {
      subject: 'Two-step verification was turned off',
      text: `Two-step verification was turned off for your account ${user.userName} at ${now}.\n\nIf this was not you, reset your password and contact your administrator.`,
    });
  }

  async function regenerateRecoveryCodes(ctx: RequestContext, user: User, otpCode: string | undefined): Promise<EnrollmentView> {
    if (!user.mfaEnabled) throw new AppError('mfa.not_enabled', { details: ['body.regenerateRecoveryCodes'] });
    if (!otpCode) throw new AppError('request.invalid', { details: ['body.otpCode'], detail: 'a current otpCode is required' });
    await verifyFactor(ctx, user, { otpCode }, { allowRecovery: false });
    const codes = generateRecoveryCodes();
    const now = ctx.now.toISOString();
    await transaction(async () => {
      await repo.replaceRecoveryCodes(user.id, codes.map(hashRecoveryCode), now);
      await audit.recordFor(ctx, user, {
        action: 'mfa.recovery_codes_regenerated',
      });
    });
    return { tempRecoveryCodes: codes, recoveryCodesRemaining: codes.length };
  }

  /**
   * Seed 002's MFA fields of `POST /v1/auth/user`. Seed 001 clients send the whole user back, so
   * `user.mfaEnabled` equal to the current state (and without a code) changes nothing.
   */
  async function mfaUpdate(ctx: RequestContext, user: User, body: ProfileUpdateBody): Promise<EnrollmentView | undefined> {
    const wanted = typeof body.user?.mfaEnabled === 'boolean' ? body.user.mfaEnabled : undefined;
    const changes =
      body.regenerateTempMfaSecret ||
      body.regenerateRecoveryCodes ||
      (wanted !== undefined && (wanted !== user.mfaEnabled || body.otpCode));
    // Why: a second factor is moved, shown or switched off only from an interactive session, never with an API key.
    if (changes) authorize(ctx.principal, 'self.manage_mfa', userTarget(user));
    if (body.regenerateTempMfaSecret) {
      if (user.userType !== 'USER')
        throw new AppError('request.invalid', { details: ['body.regenerateTempMfaSecret'], detail: 'not a USER' });
      // Why: replacing an active factor needs that factor, or a stolen session could move MFA to the thief's phone.
      if (user.mfaEnabled) {
        if (!body.otpCode && !body.recoveryCode)
          throw new AppError('request.invalid', { details: ['body.otpCode'], detail: 'current factor required' });
        await verifyFactor(ctx, user, body, { allowRecovery: true });
      }
      return startEnrollment(ctx, user);
    }
    if (body.regenerateRecoveryCodes) return regenerateRecoveryCodes(ctx, user, body.otpCode);
    if (wanted === true) {
      const pending = (await repo.findByUserId(user.id))?.pendingSecretSealed;
      if (body.otpCode && (pending || !user.mfaEnabled)) return confirmEnrollment(ctx, user, body.otpCode);
      if (!user.mfaEnabled) {
        throw new AppError(pending ? 'request.invalid' : 'mfa.no_pending_enrollment', {
          details: [pending ? 'body.otpCode' : 'body.regenerateTempMfaSecret'],
        });
      }
      return undefined;
    }
    if (wanted === false && user.mfaEnabled) {
      if (!body.otpCode && !body.recoveryCode)
        throw new AppError('request.invalid', { details: ['body.otpCode'], detail: 'a code is required' });
      await disable(ctx, user, await verifyFactor(ctx, user, body, { allowRecovery: true }));
      return {};
    }
    return undefined;
  }

  /** After a correct password: a challenge for enrolled users, an enrolment-only session where policy demands MFA. */
  async function secondFactor(
    ctx: RequestContext,
    user: User,
    input: LoginInput,
  ): Promise<{ mfaTempToken: string } | { restriction: Restriction } | undefined> {
    if (!user.mfaEnabled) {
      const policy = await organizations.policyOf(user.organizationId);
      return policy.requireMfa && user.userType === 'USER' ? { restriction: 'mfa_enroll' } : undefined;
    }
    const identifier = input.email?.trim().toLowerCase() || input.username?.trim() || user.userName;
    if (input.otpCode || input.recoveryCode) {
      // One-step sign-in: password and code in one request.
      await verifyFactor(ctx, user, input, { allowRecovery: true, identifier });
      return undefined;
    }
    await throttle.check(mfaThrottleKey(user.id), ctx.ip);
    const token = randomToken(32);
    await repo.insertChallenge({
      tokenHash: sha256Hex(token),
      userId: user.id,
      identifier: identifier.slice(0, 320),
      createdAt: ctx.now.toISOString(),
      expiresAt: new Date(ctx.now.getTime() + options.challengeTtlSeconds * 1000).toISOString(),
      attempts: 0,
      usedAt: null,
    });
    // Housekeeping: challenges expired for a day are of no use to anyone.
    await repo.purgeChallenges(new Date(ctx.now.getTime() - 86_400_000).toISOString());
    return { mfaTempToken: token };
  }

  /** `{mfaTempToken, otpCode | recoveryCode}`: the named checks of the second step, in order. */
  async function completeMfa(ctx: RequestContext, input: LoginInput): Promise<User> {
    const token = input.mfaTempToken ?? '';
    if (!input.otpCode && !input.recoveryCode) {
      throw new AppError('request.invalid', { details: ['body.otpCode'], detail: 'otpCode or recoveryCode required' });
    }
    assertThat(token.length >= 16 && token.length <= 512, 'auth.invalid_token', 'malformed mfaTempToken');
    const hash = sha256Hex(token);
    const challenge = await repo.findChallenge(hash);
    const now = ctx.now.toISOString();
    const dead = !challenge
      ? 'unknown'
      : challenge.usedAt
        ? 'used'
        : challenge.expiresAt <= now
          ? 'expired'
          : challenge.attempts >= options.challengeMaxAttempts
            ? 'attempts_exhausted'
            : undefined;
    if (dead || !challenge) {
      await audit.record(ctx, {
        action: 'mfa.challenge_refused',
        organizationId: null,
        outcome: 'failure',
        targetType: 'user',
        targetId: challenge?.userId ?? null,
        data: { reason: dead },
      });
      throw new AppError('auth.invalid_token', { detail: `mfaTempToken ${dead}` });
    }
    const user = await users.lookup.findById(challenge.userId);
    if (user?.state !== 'ACTIVE' || !user.mfaEnabled) throw new AppError('auth.invalid_token', { detail: 'user no longer eligible' });
    try {
      await verifyFactor(ctx, user, input, { allowRecovery: true, identifier: challenge.identifier });
    } catch (err) {
      if (err instanceof AppError && err.code === 'auth.invalid_mfa_code') {
        const attempts = await repo.failChallenge(hash);
        if (attempts >= options.challengeMaxAttempts) {
          await audit.recordFor(ctx, user, {
            action: 'mfa.challenge_exhausted',
            outcome: 'failure',
          });
        }
      }
      throw err;
    }
    // Why: single use — of two requests holding one token, only one gets past this update.
    if (!(await repo.consumeChallenge(hash, now, options.challengeMaxAttempts))) {
      throw new AppError('auth.invalid_token', { detail: 'mfaTempToken used concurrently' });
    }
    return user;
  }

  /**
   * An administrator resets another user's MFA (policy `user.reset_mfa`: a rank above the target,
   * never one's own account): TOTP, recovery codes, pending sign-in challenges and passkeys go; the
   * user is told by mail. The next sign-in needs only the password (or enrols, where required).
   */
  async function resetMfa(ctx: RequestContext, userId: string): Promise<User> {
    const user = await users.get(ctx, userId);
    authorize(ctx.principal, 'user.reset_mfa', userTarget(user));
    let passkeys = 0;
    await transaction(async () => {
      await repo.deleteAllForUser(user.id);
      await repo.deleteChallengesForUser(user.id);
      passkeys = deps.removeAllPasskeys ? await deps.removeAllPasskeys(user.id) : 0;
      if (user.mfaEnabled) await users.setMfaEnabled(ctx, user, false, 'administrator');
      await audit.recordFor(ctx, user, { action: 'mfa.reset', data: { totp: user.mfaEnabled, passkeys } });
    });
    notifier.sendInBackground(ctx, user, 'mfa_disabled', {
      subject: 'Two-step verification was reset',
      text: `An administrator reset two-step verification for your account ${user.userName} at ${ctx.now.toISOString()}.\n\nSet it up again from your account's Security page. If you did not expect this, contact your administrator.`,
    });
    return { ...user, mfaEnabled: false };
  }

  return {
    options,
    resetMfa,
    verifyFactor,
    mfaUpdate,
    secondFactor,
    completeMfa,
    /** Read-only MFA fields of the signed-in user's profile. */
    async userExtras(user: User): Promise<Record<string, unknown>> {
      return user.mfaEnabled ? { recoveryCodesRemaining: await repo.countUnusedRecoveryCodes(user.id) } : {};
    },
  };
}
export type MfaService = ReturnType<typeof createMfaService>;
