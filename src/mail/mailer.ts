import nodemailer from 'nodemailer';
import type { Config } from '../config/index.js';

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
}

/** Outgoing mail through `PORTCULLIS_SMTP_URL`; disabled (sends nothing) when it is not set. */
export interface Mailer {
  readonly enabled: boolean;
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

export function createMailer(config: Pick<Config, 'smtpUrl' | 'smtpFrom'>): Mailer {
  if (!config.smtpUrl) {
    return { enabled: false, send: async () => {}, close: () => {} };
  }
  const transport = nodemailer.createTransport(config.smtpUrl, { from: config.smtpFrom });
  return {
    enabled: true,
    async send(mail) {
      await transport.sendMail({ from: config.smtpFrom, to: mail.to, subject: mail.subject, text: mail.text });
    },
    close: () => transport.close(),
  };
}
