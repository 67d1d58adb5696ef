import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** One request the receiver got, and what it answered. */
export interface Received {
  id: string;
  headers: Record<string, string>;
  body: string;
  /** The payload, when a signature verified under one of the receiver's secrets. */
  payload: { type: string; timestamp: string; data: Record<string, any> } | undefined;
  status: number;
}

/** What the receiver answers to a verified request: a status, or `hold` (never answer). */
export type Behaviour = (r: Omit<Received, 'status'>, n: number) => number | 'hold';

/**
 * A webhook receiver on loopback (node:http), verifying each request with the `standardwebhooks`
 * library as a real consumer would: an unverifiable request is answered 401 and not accepted.
 */
export interface WebhookReceiver {
  url: string;
  /** Secrets the receiver verifies with (any of them may match). */
  secrets: string[];
  behaviour: Behaviour;
  received: Received[];
  /** Requests answered 2xx, by `webhook-id`. */
  accepted(): Map<string, number>;
  /** Resolves once `predicate` holds over what was received (polling). */
  until(predicate: (r: WebhookReceiver) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(secrets: string[] = []): Promise<WebhookReceiver> {
  const held: ServerResponse[] = [];
  const receiver: WebhookReceiver = {
    url: '',
    secrets,
    behaviour: () => 204,
    received: [],
    accepted() {
      const m = new Map<string, number>();
      for (const r of receiver.received) if (r.status >= 200 && r.status < 300) m.set(r.id, (m.get(r.id) ?? 0) + 1);
      return m;
    },
    async until(predicate, timeoutMs = 20_000) {
      const end = Date.now() + timeoutMs;
      while (!predicate(receiver)) {
        if (Date.now() > end) {
          const summary = receiver.received.map((r) => `${r.id} ${r.payload?.type ?? '?'} → ${r.status}`).join('\n');
          throw new Error(`webhook receiver: condition not met within ${timeoutMs} ms; received:\n${summary}`);
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async close() {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      let payload: Received['payload'];
      for (const secret of receiver.secrets) {
        try {
          payload = new Webhook(secret).verify(body, headers) as Received['payload'];
          break;
        } catch {
          // try the next secret
        }
      }
      const base = { id: headers['webhook-id'] ?? '', headers, body, payload };
      const verdict = payload ? receiver.behaviour(base, receiver.received.length) : 401;
      if (verdict === 'hold') {
        held.push(res);
        receiver.received.push({ ...base, status: 0 });
        return;
      }
      receiver.received.push({ ...base, status: verdict });
      res.statusCode = verdict;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return receiver;
}
