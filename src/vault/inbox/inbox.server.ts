import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import { type SimpleParserOptions, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** What the inbound listener needs from the vault. */
export interface InboxDeps {
  acceptsRecipient(address: string): Promise<boolean>;
  deliverEmail(recipients: string[], message: { subject: string; text: string; html?: string | undefined }): Promise<number>;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  /** Largest accepted message in bytes (`PORTCULLIS_SMTP_INBOUND_MAX_BYTES`): larger ones get `552`, unparsed. */
  maxMessageBytes: number;
}

export interface VaultInbox {
  listen(port: number, host: string): Promise<void>;
  /** The bound port (useful when listening on port 0). */
  port(): number | undefined;
  close(): Promise<void>;
}

/**
 * The parser produces only what extraction reads: no HTML made from the text, no text made from the
 * HTML (extraction reads the HTML itself, within its own bounds), no links or image data URLs.
 */
const PARSE_OPTIONS: SimpleParserOptions = { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true };

const smtpError = (message: string, responseCode: number): Error => Object.assign(new Error(message), { responseCode });

/**
 * Reads a message off the DATA stream, keeping at most `maxBytes`. The moment the message is larger
 * it resolves `undefined` and drops what it kept; it still reads the rest (the client expects a reply
 * after its final dot) but keeps none of it, so memory does not grow with an oversized message.
 * Rejects when the stream fails or closes before its end.
 */
export function readMessage(stream: Readable, maxBytes: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] = [];
    let bytes = 0;
    let tooLarge = false;
    stream.on('data', (chunk: Buffer) => {
      if (tooLarge) return;
      bytes += chunk.length;
      // Why here, not after the end: whatever is past the limit must never be held or parsed.
      if (bytes > maxBytes) {
        tooLarge = true;
        chunks = [];
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    stream.once('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks, bytes)));
    stream.once('error', reject);
    stream.once('close', () => reject(new Error('message stream closed before its end')));
  });
}

/**
 * The inbound SMTP listener for emailed 2FA codes (smtp-server + mailparser). It accepts a
 * recipient only when it is some login's `twoFactorAuthEmail` (others are refused at RCPT TO with
 * 550), reads the message up to `maxMessageBytes` (a larger one is answered `552` without being
 * kept or parsed), parses it and hands it to the vault. It never logs addresses or mail content.
 */
export function createVaultInbox(deps: InboxDeps): VaultInbox {
  const server = new SMTPServer({
    name: 'portcullis',
    banner: 'Portcullis vault inbox',
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    // Advertised in EHLO, so a client that declares a larger SIZE is refused at MAIL FROM.
    size: deps.maxMessageBytes,
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
      readMessage(stream, deps.maxMessageBytes)
        .then(async (source) => {
          // Answered as soon as the limit is passed; smtp-server sends the reply once the client's data ends.
          if (!source) throw smtpError('Message too large', 552);
          const mail = await simpleParser(source, PARSE_OPTIONS);
          const stored = await deps.deliverEmail(recipients, {
            subject: mail.subject ?? '',
            text: mail.text ?? '',
            html: typeof mail.html === 'string' ? mail.html : undefined,
          });
          deps.log.info({ recipients: recipients.length, bytes: source.length, stored }, 'vault inbox message received');
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
