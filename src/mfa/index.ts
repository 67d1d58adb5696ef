import type { FastifyPluginAsync } from 'fastify';
import type { AuditService } from '../audit/index.js';
import type { MasterKeyring } from '../crypto/index.js';
import type { EventBus } from '../events/index.js';
import type { OrganizationsService, UsersService } from '../identity/index.js';
import type { Logger } from '../log/index.js';
import type { Mailer } from '../mail/index.js';
import type { AccountSeams, LoginSeams, LoginThrottle, SessionsService } from '../sessions/index.js';
import type { SharedState } from '../state/index.js';
import type { Storage } from '../storage/index.js';
import { createEmailTokensRepo } from './email/email.repo.js';
import { createEmailFlowService, type EmailFlowOptions } from './email/email.service.js';
import { createNotifier, type MailKind } from './email/notify.js';
import { createMfaRepo } from './mfa.repo.js';
import { createMfaService, type MfaOptions } from './mfa.service.js';
import { createPasskeysRepo } from './passkeys/passkeys.repo.js';
import { passkeyRoutes } from './passkeys/passkeys.routes.js';
import { createPasskeysService } from './passkeys/passkeys.service.js';

export type { EmailFlowService } from './email/email.service.js';

import { mfaRoutes } from './mfa.routes.js';
import { mfaAdminRoutes } from './mfa-admin.routes.js';

export { mfaSealedColumns } from './mfa.sealed.js';
export type { MfaService } from './mfa.service.js';
export type { PasskeysService, PasskeyView } from './passkeys/passkeys.service.js';

export interface MfaDomainDeps {
  storage: Pick<Storage, 'executor' | 'transaction'>;
  keyring: MasterKeyring;
  users: UsersService;
  organizations: OrganizationsService;
  /** The sign-in throttle: wrong codes count toward the account's back-off. */
  throttle: LoginThrottle;
  audit: AuditService;
  mailer: Mailer;
  state: SharedState;
  events: EventBus;
  log: Logger;
  publicUrl: string;
  /** The relying party name shown by authenticators (the otpauth issuer). */
  rpName: string;
  /** `config.mfa`. */
  mfaOptions: MfaOptions;
  /** `config.emailFlow`; the links in the mails start with `publicUrl`. */
  emailOptions: Omit<EmailFlowOptions, 'publicUrl'>;
}

/**
 * The MFA domain: TOTP and recovery codes, the second sign-in step, email verification and
 * password reset. Answers its services, the sign-in steps and account extensions the sessions
 * domain is built with, and its routes.
 */
export function createMfaDomain(deps: MfaDomainDeps) {
  // Only the kind and the transport's message: never the mail (it may hold a token).
  const onMailError = (err: unknown, kind: MailKind) =>
    deps.log.warn({ mailKind: kind, reason: err instanceof Error ? err.message : 'unknown' }, 'mail delivery failed');
  const notifier = createNotifier({ mailer: deps.mailer, audit: deps.audit, onError: onMailError });
  const repo = createMfaRepo(deps.storage.executor);
  const passkeysRepo = createPasskeysRepo(deps.storage.executor);
  const mfa = createMfaService({
    transaction: deps.storage.transaction,
    repo,
    keyring: deps.keyring,
    users: deps.users,
    organizations: deps.organizations,
    throttle: deps.throttle,
    audit: deps.audit,
    notifier,
    options: deps.mfaOptions,
    removeAllPasskeys: passkeysRepo.removeAllForUser,
  });
  const emailFlow = createEmailFlowService({
    repo: createEmailTokensRepo(deps.storage.executor),
    users: deps.users,
    notifier,
    audit: deps.audit,
    state: deps.state,
    options: { ...deps.emailOptions, publicUrl: deps.publicUrl },
  });
  // Why: a sign-in that passed the old password must not finish with its mfaTempToken once the
  // password changed; and the user hears about every password change.
  deps.events.on('user.password_set', async ({ ctx, userId, kind }) => {
    await repo.deleteChallengesForUser(userId);
    const user = await deps.users.lookup.findById(userId);
    if (user) await emailFlow.passwordSet(ctx, user, kind);
  });
  const loginSteps: Pick<LoginSeams, 'secondFactor' | 'completeMfa'> = {
    secondFactor: mfa.secondFactor,
    completeMfa: mfa.completeMfa,
  };
  const accountExtensions: AccountSeams = {
    mfaUpdate: mfa.mfaUpdate,
    userExtras: mfa.userExtras,
    emailChange: emailFlow.requestEmailChange,
  };
  const routes: FastifyPluginAsync = async (app) => {
    await app.register(mfaRoutes, { services: { mfa: { emailFlow } } });
    await app.register(mfaAdminRoutes, { services: { mfa } });
  };
  // Passkeys: the public URL is the relying party (its host the RP ID, its origin the only origin).
  const rp = new URL(deps.publicUrl);
  const passkeys = createPasskeysService({
    repo: passkeysRepo,
    mfaRepo: repo,
    users: deps.users,
    audit: deps.audit,
    state: deps.state,
    throttle: deps.throttle,
    options: { rpId: rp.hostname, rpName: deps.rpName, origin: rp.origin, challengeMaxAttempts: deps.mfaOptions.challengeMaxAttempts },
  });
  return {
    mfa,
    emailFlow,
    passkeys,
    loginSteps,
    accountExtensions,
    routes,
    /** The passkey routes, which issue sessions (built once the sessions domain exists). */
    withSessions(sessions: SessionsService, config: Parameters<typeof passkeyRoutes>[1]['services']['config']): FastifyPluginAsync {
      return async (app) => {
        await app.register(passkeyRoutes, { services: { passkeys, sessions, config } });
      };
    },
  };
}
export type MfaDomain = ReturnType<typeof createMfaDomain>;
