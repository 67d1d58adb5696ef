import type { AuditService } from '../audit/audit.service.js';
import type { MasterKeyring } from '../crypto/index.js';
import type { OrganizationsService } from '../identity/organizations/organizations.service.js';
import type { PasswordSetHook, UsersService } from '../identity/users/users.service.js';
import type { Mailer } from '../mail/mailer.js';
import type { AccountSeams } from '../sessions/account.service.js';
import type { LoginSeams, SessionsService } from '../sessions/sessions.service.js';
import type { SharedState } from '../state/index.js';
import type { Executor } from '../storage/index.js';
import { createEmailTokensRepo } from './email/email.repo.js';
import { createEmailFlowService, type EmailFlowOptions } from './email/email.service.js';
import { createNotifier, type MailKind } from './email/notify.js';
import { createMfaRepo } from './mfa.repo.js';
import { createMfaService, type MfaOptions } from './mfa.service.js';

export type { EmailFlowService } from './email/email.service.js';
export { mfaRoutes } from './mfa.routes.js';
export { mfaSealedColumns } from './mfa.sealed.js';
export type { MfaService } from './mfa.service.js';

export interface MfaDomainDeps {
  db: Executor;
  keyring: MasterKeyring;
  users: UsersService;
  organizations: OrganizationsService;
  sessions: SessionsService;
  audit: AuditService;
  mailer: Mailer;
  state: SharedState;
  publicUrl: string;
  onMailError: (err: unknown, kind: MailKind) => void;
  /** `config.mfa`. */
  mfaOptions: MfaOptions;
  /** `config.emailFlow`; the links in the mails start with `publicUrl`. */
  emailOptions: Omit<EmailFlowOptions, 'publicUrl'>;
}

/** The MFA domain, wired: its services and the seams it fills in for sign-in and the account. */
export function createMfaDomain(deps: MfaDomainDeps) {
  const notifier = createNotifier({ mailer: deps.mailer, audit: deps.audit, onError: deps.onMailError });
  const repo = createMfaRepo(deps.db);
  const mfa = createMfaService({
    db: deps.db,
    repo,
    keyring: deps.keyring,
    users: deps.users,
    organizations: deps.organizations,
    throttle: deps.sessions.throttle,
    audit: deps.audit,
    notifier,
    options: deps.mfaOptions,
  });
  const emailFlow = createEmailFlowService({
    repo: createEmailTokensRepo(deps.db),
    users: deps.users,
    notifier,
    audit: deps.audit,
    state: deps.state,
    // Why: a sign-in that passed the old password must not finish with its mfaTempToken after a reset.
    revokeAllForUser: async (ctx, userId, reason) => {
      await repo.deleteChallengesForUser(userId);
      return deps.sessions.revokeAllForUser(ctx, userId, reason);
    },
    options: { ...deps.emailOptions, publicUrl: deps.publicUrl },
  });
  const loginSeams: Pick<LoginSeams, 'secondFactor' | 'completeMfa'> = {
    secondFactor: mfa.secondFactor,
    completeMfa: mfa.completeMfa,
  };
  const accountSeams: AccountSeams = {
    mfaUpdate: mfa.mfaUpdate,
    userExtras: mfa.userExtras,
    emailChange: emailFlow.requestEmailChange,
  };
  const onPasswordSet: PasswordSetHook = async (ctx, user, kind) => {
    await repo.deleteChallengesForUser(user.id);
    await emailFlow.passwordSet(ctx, user, kind);
  };
  return { mfa, emailFlow, loginSeams, accountSeams, onPasswordSet };
}
export type MfaDomain = ReturnType<typeof createMfaDomain>;
