import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** What the inbound listener needs from the vault. */
export interface InboxDeps {
  acceptsRecipient(address: string): Promise<boolean>;
  deliverEmail(recipients: string[], message: { subject: string; text: string; html?: string | undefined }): Promise<number>;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

export interface VaultInbox {
  listen(port: number, host: string): Promise<void>;
  /** The bound port (useful when listening on port 0). */
  port(): number | undefined;
  close(): Promise<void>;
}

/** Largest accepted message: 2FA mails are small. */
const MAX_MESSAGE_BYTES = 512 * 1024;

const smtpError = (message: string, responseCode: number): Error => Object.assign(new Error(message), { responseCode });

/**
 * The inbound SMTP listener for emailed 2FA codes (smtp-server + mailparser). It accepts a
 * recipient only when it is some login's `twoFactorAuthEmail` (others are refused at RCPT TO with
 * 550), parses the message and hands it to the vault. It never logs addresses' mail content.
 */
export function createVaultInbox(deps: InboxDeps): VaultInbox {
  const server = new SMTPServer({
    name: 'portcullis',
    banner: 'Portcullis vault inbox',
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    size: MAX_MESSAGE_BYTES,
    maxClients: 100,
    socketTimeout: 30_000,
    logger: false,
    onRcptTo(address, _session, callback) {
      deps
        .acceptsRecipient(address.address)
        .then((ok) => callback(ok ? undefined : smtpError('No such mailbox', 550)))
        .catch(() => callback(smtpError('Temporary failure, try again later', 451)));
    },
    onData(stream, session, callback) {
      const recipients = session.envelope.rcptTo.map((r) => r.address);
      simpleParser(stream)
        .then(async (mail) => {
          if ((stream as unknown as { sizeExceeded?: boolean }).sizeExceeded) throw smtpError('Message too large', 552);
          const stored = await deps.deliverEmail(recipients, {
            subject: mail.subject ?? '',
            text: mail.text ?? '',
            html: typeof mail.html === 'string' ? mail.html : undefined,
          });
          deps.log.info({ recipients: recipients.length, stored }, 'vault inbox message received');
          callback();
        })
        .catch((err: unknown) => {
          deps.log.warn({ err: { message: err instanceof Error ? err.message : String(err) } }, 'vault inbox message refused');
          callback(err instanceof Error && 'responseCode' in err ? err : smtpError('Temporary failure, try again later', 451));
        });
    },
  });
  server.on('error', (err) => deps.log.warn({ err: { message: err.message } }, 'vault inbox error'));
  let listening = false;
  return {
    listen: (port, host) =>
      new Promise<void>((resolve, reject) => {
        server.server.once('error', reject);
        server.listen(port, host, () => {
          server.server.off('error', reject);
          listening = true;
          resolve();
        });
      }),
    port: () => (listening ? (server.server.address() as AddressInfo | null)?.port : undefined),
    close: () =>
      new Promise<void>((resolve) => {
        if (!listening) return resolve();
        listening = false;
        server.close(() => resolve());
      }),
  };
}
