import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ctx, errors } from '../http/index.js';
import type { EmailFlowService } from './email/email.service.js';
import {
  EmailVerifyBody,
  EmailVerifyRequestResponse,
  EmailVerifyResponse,
  MfaOkResponse,
  PasswordResetBody,
  PasswordResetRequestBody,
} from './mfa.schemas.js';

/** What the MFA routes use. */
export interface MfaRoutesDeps {
  mfa: { emailFlow: EmailFlowService };
}

const OK = { success: true, code: 0 } as const;
/** One answer whether or not the account exists (no enumeration). */
export const RESET_REQUESTED_MESSAGE = 'If the account exists, a message with reset instructions has been sent to its email address.';

/**
 * Email verification and self-service password reset. TOTP enrolment lives on `POST /v1/auth/user`
 * and the second sign-in step on `POST /v1/auth/login` (the sessions domain, through its seams).
 */
export const mfaRoutes: FastifyPluginAsyncTypebox<{ services: MfaRoutesDeps }> = async (app, { services }) => {
  const { emailFlow } = services.mfa;

  app.post(
    '/v1/auth/email/verify/request',
    {
      schema: {
        operationId: 'requestEmailVerification',
        description:
          'Mails a single-use code to the address on file (throttled). Answers `sent: false` when the address is already verified. 400 `mail.not_configured` without SMTP.',
        tags: ['auth'],
        summary: "Mail a verification code to the signed-in user's address",
        response: { 200: EmailVerifyRequestResponse, ...errors(400, 401, 403, 429, 503) },
      },
    },
    async (req) => {
      const { sent } = await emailFlow.requestVerification(ctx(req));
      return { ...OK, message: sent ? 'Verification code sent' : 'Email already verified', sent };
    },
  );

  app.post(
    '/v1/auth/email/verify',
    {
      config: { auth: 'none' },
      schema: {
        operationId: 'verifyEmail',
        tags: ['auth'],
        summary: 'Mark the email address verified with the mailed code',
        description: 'The code alone identifies the account, so the link works from any device. Single use.',
        security: [],
        body: EmailVerifyBody,
        response: { 200: EmailVerifyResponse, ...errors(400, 401, 429) },
      },
    },
    async (req) => {
      await emailFlow.verifyEmail(ctx(req), req.body.code);
      return { ...OK, message: 'Email verified', emailVerified: true };
    },
  );

  app.post(
    '/v1/auth/password/reset/request',
    {
      config: { auth: 'none' },
      schema: {
        operationId: 'requestPasswordReset',
        tags: ['auth'],
        summary: 'Mail a password reset token',
        description:
          'Takes `email` or `username`. Always answers the same 200 body, before looking the account up; an active account with a verified email address is mailed a single-use token valid 30 minutes. Throttled per submitted account and per address.',
        security: [],
        body: PasswordResetRequestBody,
        response: { 200: MfaOkResponse, ...errors(400, 429, 503) },
      },
    },
    async (req) => {
      await emailFlow.requestPasswordReset(ctx(req), req.body);
      return { ...OK, message: RESET_REQUESTED_MESSAGE };
    },
  );

  app.post(
    '/v1/auth/password/reset',
    {
      config: { auth: 'none' },
      schema: {
        operationId: 'resetPassword',
        tags: ['auth'],
        summary: 'Set a new password with a mailed reset token',
        description:
          'Applies the password policy and revokes every session. MFA stays on: the next sign-in still asks for the second factor.',
        security: [],
        body: PasswordResetBody,
        response: { 200: MfaOkResponse, ...errors(400, 401, 429) },
      },
    },
    async (req) => {
      await emailFlow.resetPassword(ctx(req), req.body.token, req.body.newPassword);
      return { ...OK, message: 'Password reset. Sign in with the new password.' };
    },
  );
};
