import type { AuditService } from '../../audit/index.js';
import type { RequestContext } from '../../auth/index.js';
import { AppError } from '../../errors/index.js';
import type { Mailer } from '../../mail/index.js';

/** What a mail is about; recorded in the audit log (never the mail's text). */
export type MailKind =
  | 'email_verification'
  | 'password_reset'
  | 'password_changed'
  | 'password_set'
  | 'password_reset_completed'
  | 'mfa_disabled'
  | 'email_change'
  | 'email_change_requested';

export interface MailTarget {
  id: string;
  organizationId: string;
  email: string | null;
}

export interface NotifierDeps {
  mailer: Mailer;
  audit: AuditService;
  /** Told when a background delivery fails (logged by the caller, without the mail). */
  onError: (err: unknown, kind: MailKind) => void;
}

/** Account mails: sent through the mailer, each one audited as `mail.sent`. */
export function createNotifier(deps: NotifierDeps) {
  const { mailer, audit } = deps;

  async function send(ctx: RequestContext, user: MailTarget, kind: MailKind, mail: { subject: string; text: string }, to?: string) {
    const address = to ?? user.email;
    if (!mailer.enabled) throw new AppError('mail.not_configured');
    if (!address) return;
    await mailer.send({ to: address, subject: mail.subject, text: mail.text });
    await audit.recordFor(ctx, user, {
      action: 'mail.sent',
      data: { kind },
    });
  }

  return {
    get enabled(): boolean {
      return mailer.enabled;
    },
    send,
    /**
     * Sends without making the caller wait: the answer of a public route must not depend on
     * whether a mail went out (timing), and a slow SMTP server must not hold a password change.
     */
    sendInBackground(ctx: RequestContext, user: MailTarget, kind: MailKind, mail: { subject: string; text: string }, to?: string): void {
      if (!mailer.enabled || !(to ?? user.email)) return;
      send(ctx, user, kind, mail, to).catch((err: unknown) => deps.onError(err, kind));
    },
    /**
     * Runs `task` once the current request has been answered (the next turn of the event loop);
     * a failure is reported like a failed delivery of `kind`. For work whose duration would tell
     * the caller something, such as whether an account exists.
     */
    afterResponse(kind: MailKind, task: () => Promise<void>): void {
      setImmediate(() => {
        task().catch((err: unknown) => deps.onError(err, kind));
      });
    },
  };
}
export type Notifier = ReturnType<typeof createNotifier>;
