import type { Transporter } from 'nodemailer';
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
  const smtpUrl = config.smtpUrl;
  // nodemailer is loaded on the first mail, not at start-up.
  let transport: Promise<Transporter> | undefined;
  const getTransport = (): Promise<Transporter> => {
    transport ??= import('nodemailer').then(({ default: nodemailer }) => nodemailer.createTransport(smtpUrl, { from: config.smtpFrom }));
    return transport;
  };
  return {
    enabled: true,
    async send(mail) {
      await (await getTransport()).sendMail({ from: config.smtpFrom, to: mail.to, subject: mail.subject, text: mail.text });
    },
    close: () => {
      transport?.then((t) => t.close()).catch(() => {});
    },
  };
}
