import type { AuditService } from '../../audit/index.js';
import { authorize, type RequestContext, userTarget } from '../../auth/index.js';
import type { Config } from '../../config/index.js';
import { randomToken, sha256Hex } from '../../crypto/index.js';
import { AppError, assertThat } from '../../errors/index.js';
import type { User, UsersService } from '../../identity/index.js';
import { createRateLimit, type SharedState } from '../../state/index.js';
import type { EmailTokenPurpose, EmailTokensRepo } from './email.repo.js';
import type { Notifier } from './notify.js';

/** Token lifetimes and request limits (`PORTCULLIS_PASSWORD_RESET_*`, `…_EMAIL_VERIFY_*`, `…_MAIL_FLOW_*`), and the base of the links in the mails. */
export type EmailFlowOptions = Config['emailFlow'] & {
  /** Base of the links in the mails. */
  publicUrl: string;
};

export interface EmailFlowDeps {
  repo: EmailTokensRepo;
  users: UsersService;
  notifier: Notifier;
  audit: AuditService;
  state: SharedState;
  options: EmailFlowOptions;
}

export type PasswordSetKind = 'changed' | 'admin_set' | 'reset';

/**
 * Email is not a second factor here (NIST SP 800-63B-4): it verifies an address and recovers a
 * forgotten password. Every token is random, stored hashed, single-use and short-lived.
 */
export function createEmailFlowService(deps: EmailFlowDeps) {
  const { repo, users, notifier, audit } = deps;
  const o = deps.options;
  const limit = (name: string, points: number) => createRateLimit(deps.state, { name, points, windowSeconds: o.windowSeconds });
  const perIp = limit('mailflow_ip', o.requestsPerIp);
  const resetPerAccount = limit('pwreset_account', o.resetRequestsPerAccount);
  const verifyPerUser = limit('verify_user', o.verifyMailsPerUser);

  async function issueToken(ctx: RequestContext, user: User, purpose: EmailTokenPurpose, email: string, ttlSeconds: number) {
    const token = randomToken(purpose === 'password_reset' ? 32 : 24);
    const now = ctx.now.toISOString();
    await repo.invalidateForUser(user.id, purpose, now);
    await repo.insert({
      tokenHash: sha256Hex(token),
      userId: user.id,
      purpose,
      email,
      createdAt: now,
      expiresAt: new Date(ctx.now.getTime() + ttlSeconds * 1000).toISOString(),
      usedAt: null,
    });
    await repo.purgeExpired(new Date(ctx.now.getTime() - 7 * 86_400_000).toISOString());
    return token;
  }

  /** The named checks every presented mail token passes, in order. */
  async function liveToken(ctx: RequestContext, presented: string, purposes: readonly EmailTokenPurpose[]) {
    const value = presented.trim();
    assertThat(value.length >= 16 && value.length <= 512, 'auth.invalid_token', 'malformed token');
    const hash = sha256Hex(value);
    const row = await repo.findByHash(hash, purposes);
    const reason = !row ? 'unknown' : row.usedAt ? 'used' : row.expiresAt <= ctx.now.toISOString() ? 'expired' : undefined;
    const user = row && !reason ? await users.lookup.findById(row.userId) : undefined;
    const refused = reason ?? (user?.state !== 'ACTIVE' ? 'user_inactive' : undefined);
    if (refused || !row || !user) {
      await audit.record(ctx, {
        action: purposes.includes('password_reset') ? 'user.password_reset_failed' : 'user.email_verification_failed',
        organizationId: user?.organizationId ?? null,
        outcome: 'failure',
        targetType: 'user',
        targetId: row?.userId ?? null,
        data: { reason: refused },
      });
      throw new AppError('auth.invalid_token', { detail: `${purposes.join('|')} token ${refused}` });
    }
    return { row, user, hash };
  }

  /** Notification mail after a password change, an administrator's set or a reset. */
  async function passwordSet(ctx: RequestContext | undefined, user: User, kind: PasswordSetKind): Promise<void> {
    const at = (ctx?.now ?? new Date()).toISOString();
    const what = kind === 'admin_set' ? 'was set by an administrator' : kind === 'reset' ? 'was reset' : 'was changed';
    notifier.sendInBackground(
      ctx ?? { principal: undefined, ip: 'local', requestId: 'system', userAgent: undefined, now: new Date() },
      user,
      kind === 'admin_set' ? 'password_set' : kind === 'reset' ? 'password_reset_completed' : 'password_changed',
      {
        subject: 'Your password was changed',
        text: `The password of your account ${user.userName} ${what} at ${at}.\n\nIf this was not you, reset your password now and contact your administrator.\n`,
      },
    );
  }

  /**
   * The work behind a reset request, run after the answer. Only a verified address of an active
   * person gets a token: an unverified one may belong to someone else (a typo, or an email change
   * not yet confirmed), and a reset mailed there would hand them the account.
   */
  async function mailResetToken(ctx: RequestContext, identifier: string, email: string | undefined): Promise<void> {
    const user = email ? await users.lookup.findByEmail(email) : await users.lookup.findByUserName(identifier);
    const reason = !user
      ? 'unknown_account'
      : user.state !== 'ACTIVE'
        ? 'inactive_user'
        : user.userType !== 'USER'
          ? 'not_a_person'
          : !user.email
            ? 'no_email'
            : !user.emailVerified
              ? 'email_not_verified'
              : undefined;
    await audit.record(ctx, {
      action: 'user.password_reset_requested',
      organizationId: user?.organizationId ?? null,
      outcome: reason ? 'failure' : 'success',
      targetType: 'user',
      targetId: user?.id ?? null,
      data: { identifier: identifier.slice(0, 128), ...(reason ? { reason } : {}) },
    });
    if (reason || !user?.email) return;
    const token = await issueToken(ctx, user, 'password_reset', user.email, o.resetTokenTtlSeconds);
    const minutes = Math.round(o.resetTokenTtlSeconds / 60);
    await notifier.send(ctx, user, 'password_reset', {
      subject: 'Reset your password',
      text:
        `Someone asked to reset the password of your account ${user.userName}.\n\n` +
        `Reset token: ${token}\n\nOr open ${o.publicUrl}/reset-password#token=${token}\n\n` +
        `The token works once and expires in ${minutes} minutes. If this was not you, ignore this message: your password stays as it is.\n`,
    });
  }

  return {
    passwordSet,

    /** `POST /v1/auth/email/verify/request`: mails a code to the signed-in user's address. */
    async requestVerification(ctx: RequestContext): Promise<{ sent: boolean }> {
      const p = ctx.principal;
      assertThat(p, 'auth.unauthenticated');
      const user = await users.lookup.findById(p.userId);
      assertThat(user && user.state === 'ACTIVE', 'auth.unauthenticated', 'user inactive');
      // Why: a key must not mail codes that let its holder claim an address; only a signed-in person may.
      authorize(p, 'self.change_email', userTarget(user));
      if (!user.email) throw new AppError('request.invalid', { details: ['user.email'], detail: 'no email address' });
      if (user.emailVerified) return { sent: false };
      if (!notifier.enabled) throw new AppError('mail.not_configured');
      await verifyPerUser.enforce(user.id);
      const code = await issueToken(ctx, user, 'email_verify', user.email, o.verifyTokenTtlSeconds);
      const hours = Math.round(o.verifyTokenTtlSeconds / 3600);
      try {
        await notifier.send(ctx, user, 'email_verification', {
          subject: 'Verify your email address',
          text:
            `Confirm that ${user.email} is the address of your account ${user.userName}.\n\n` +
            `Verification code: ${code}\n\nOr open ${o.publicUrl}/verify-email#code=${code}\n\n` +
            `The code works once and expires in ${hours} hours. If you did not ask for it, ignore this message.\n`,
        });
      } catch (cause) {
        if (cause instanceof AppError) throw cause;
        throw new AppError('service.unavailable', { detail: 'mail delivery failed', cause });
      }
      return { sent: true };
    },

    /**
     * `POST /v1/auth/email/verify {code}`: marks the address verified if it is still the user's, or
     * — for a code mailed by an email change — makes the new address the user's, verified.
     */
    async verifyEmail(ctx: RequestContext, code: string): Promise<void> {
      await perIp.enforce(ctx.ip);
      // One lookup serves both kinds of code: a verification of the current address, or an email change.
      const { row, user, hash } = await liveToken(ctx, code, ['email_verify', 'email_change']);
      // Why: a verification code proves control of the address it was sent to, not of a newer one.
      if (row.purpose === 'email_verify' && user.email?.toLowerCase() !== row.email.toLowerCase())
        throw new AppError('auth.invalid_token', { detail: 'email changed since' });
      if (!(await repo.consume(hash, ctx.now.toISOString()))) throw new AppError('auth.invalid_token', { detail: 'used concurrently' });
      await users.confirmEmail(ctx, user, row.email.toLowerCase());
    },

    /**
     * The signed-in user asked for a new address (`POST /v1/auth/user`). Nothing changes yet: the
     * new address gets a code, the current one a notice; the change happens when the code comes back.
     */
    async requestEmailChange(ctx: RequestContext, user: User, newEmail: string): Promise<void> {
      if (!notifier.enabled) throw new AppError('mail.not_configured', { details: ['body.user.email'] });
      await verifyPerUser.enforce(user.id);
      const code = await issueToken(ctx, user, 'email_change', newEmail, o.verifyTokenTtlSeconds);
      const hours = Math.round(o.verifyTokenTtlSeconds / 3600);
      try {
        await notifier.send(
          ctx,
          user,
          'email_change',
          {
            subject: 'Confirm your new email address',
            text:
              `Confirm that ${newEmail} becomes the address of your account ${user.userName}.\n\n` +
              `Verification code: ${code}\n\nOr open ${o.publicUrl}/verify-email#code=${code}\n\n` +
              `The code works once and expires in ${hours} hours. Until then the account keeps its current address. If you did not ask for this, ignore this message.\n`,
          },
          newEmail,
        );
      } catch (cause) {
        if (cause instanceof AppError) throw cause;
        throw new AppError('service.unavailable', { detail: 'mail delivery failed', cause });
      }
      // Why: the current owner of the account hears about the attempt even if a thief holds the session.
      if (user.email) {
        notifier.sendInBackground(ctx, user, 'email_change_requested', {
          subject: 'A new email address was requested for your account',
          text:
            `Someone signed in to your account ${user.userName} asked to change its email address to ${newEmail}.\n\n` +
            `Nothing changes until the new address is confirmed. If this was not you, change your password now and contact your administrator.\n`,
        });
      }
      await audit.recordFor(ctx, user, {
        action: 'user.email_change_requested',
      });
    },

    /**
     * `POST /v1/auth/password/reset/request {email | username}`. The caller always gets the same
     * answer after the same work: input checks and the per-address and per-identifier ceilings
     * (which count known and unknown identifiers alike). Everything that depends on the account —
     * lookup, audit, token, mail — runs after the answer, for unknown identifiers too.
     */
    async requestPasswordReset(ctx: RequestContext, input: { email?: string | undefined; username?: string | undefined }): Promise<void> {
      const email = input.email?.trim().toLowerCase();
      const username = input.username?.trim();
      const identifier = email || username;
      if (!identifier) throw new AppError('request.invalid', { details: ['body.email'], detail: 'email or username required' });
      if (!notifier.enabled) throw new AppError('mail.not_configured');
      await perIp.enforce(ctx.ip);
      await resetPerAccount.enforce(identifier.toLowerCase());
      // Why: a lookup, an audit write and a token insert took the known path ~8 ms longer on
      // PostgreSQL than the unknown one, telling who has an account; after the answer they cost nothing.
      notifier.afterResponse('password_reset', () => mailResetToken(ctx, identifier, email));
    },

    /**
     * `POST /v1/auth/password/reset {token, newPassword}`: sets the password under the policy and
     * ends every session. MFA is untouched, so the next sign-in still asks for the second factor.
     */
    async resetPassword(ctx: RequestContext, token: string, newPassword: string): Promise<void> {
      await perIp.enforce(ctx.ip);
      const { row, user, hash } = await liveToken(ctx, token, ['password_reset']);
      try {
        await users.validateNewPassword(user.organizationId, newPassword, user);
      } catch (err) {
        if (err instanceof AppError && err.code === 'password.policy_violation') {
          throw new AppError('password.policy_violation', { details: ['body.newPassword'], ...(err.detail ? { detail: err.detail } : {}) });
        }
        throw err;
      }
      const now = ctx.now.toISOString();
      // Why: single use — of two requests holding one token, only one gets past this update.
      if (!(await repo.consume(hash, now))) throw new AppError('auth.invalid_token', { detail: 'used concurrently' });
      await users.resetPassword(ctx, user, newPassword, row.email);
      await repo.invalidateForUser(user.id, 'password_reset', now);
      // The users service announced the reset: every session of the user has ended by now.
      await audit.recordFor(ctx, user, {
        action: 'user.password_reset',
        actor: { type: 'user', id: user.id },
        data: { revokedSessions: true },
      });
    },
  };
}
export type EmailFlowService = ReturnType<typeof createEmailFlowService>;
