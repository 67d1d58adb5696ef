import { Webhook } from 'standardwebhooks';
import type { Config } from '../config/index.js';
import { type MasterKeyring, newId } from '../crypto/index.js';
import { type GuardedFetch, OutboundError } from '../federation/index.js';
import type { Logger } from '../log/index.js';
import type { WebhookDelivery, WebhookEndpoint, WebhooksRepo } from './webhooks.repo.js';
import { endpointSecretAad } from './webhooks.sealed.js';

/** Deliveries claimed (and sent concurrently) in one round. */
const BATCH = 16;
/** How long a claim outlives the attempt's deadline before another instance may take the row over. */
const LEASE_MARGIN_MS = 5000;

/** Counts of attempts by outcome since start, for `/metrics`. */
export interface DeliveryCounts {
  succeeded: number;
  failed: number;
  /** Deliveries given up after the retry window. */
  abandoned: number;
}

export type DispatcherOptions = Config['webhooks'];

/** Delay before attempt `attempts + 1`: `base × 2^(attempts − 1)`, capped, with up to 10% jitter so retries spread out. */
export function backoffMs(attempts: number, base: number, max: number, random = Math.random): number {
  const exp = Math.min(max, base * 2 ** Math.max(0, Math.min(attempts - 1, 40)));
  return Math.round(exp * (1 + 0.1 * random()));
}

/**
 * The `webhook-signature` header: a `v1,` HMAC-SHA256 signature under the current secret, and one
 * under the previous secret while its grace period lasts (Standard Webhooks: space-separated), so a
 * receiver still verifying with either secret accepts the message during a rotation.
 */
export function signatures(secrets: readonly string[], msgId: string, at: Date, body: string): string {
  return secrets.map((s) => new Webhook(s).sign(msgId, at, body)).join(' ');
}

/** Why an attempt failed, as the delivery log shows it (never a response body, never a secret). */
function reasonOf(err: unknown): string {
  if (err instanceof OutboundError) return err.reason;
  return 'internal';
}

/**
 * Sends the outbox: each instance claims due rows (see `WebhooksRepo.claim`), signs and posts them
 * through the SSRF-guarded fetch, and records the outcome — delivered, retried later with
 * exponential back-off, or given up once the retry window has passed. A per-endpoint circuit
 * breaker pauses an endpoint after `breakerThreshold` failures in a row; after the cool-down one
 * trial delivery goes out (half-open) and its outcome closes or re-opens the breaker.
 */
export function createWebhookDispatcher(deps: {
  repo: WebhooksRepo;
  keyring: MasterKeyring;
  fetch: GuardedFetch;
  options: DispatcherOptions;
  log: Logger;
  now?: () => Date;
}) {
  const { repo, keyring, options, log } = deps;
  const now = deps.now ?? (() => new Date());
  const owner = newId();
  const counts: DeliveryCounts = { succeeded: 0, failed: 0, abandoned: 0 };
  let stopped = true;
  let running: Promise<void> | undefined;
  let again = false;
  let timer: NodeJS.Timeout | undefined;

  function secretsOf(endpoint: WebhookEndpoint, at: Date): string[] {
    const current = keyring.unwrap(endpoint.secretSealed, endpointSecretAad(endpoint.id)).toString('utf8');
    const previousValid =
      endpoint.previousSecretSealed && endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > at.toISOString();
    if (!previousValid) return [current];
    const previous = keyring.unwrap(endpoint.previousSecretSealed as string, endpointSecretAad(endpoint.id)).toString('utf8');
    return [current, previous];
  }

  /** One attempt of one claimed delivery. */
  async function attempt(d: WebhookDelivery, endpoint: WebhookEndpoint | undefined): Promise<void> {
    const startedAt = now();
    const at = startedAt.toISOString();
    const windowEnd = new Date(Date.parse(d.createdAt) + options.retryWindowSeconds * 1000);
    if (!endpoint) {
      await repo.failed(d.id, owner, { at, responseStatus: null, error: 'endpoint_gone' }, null, false);
      return;
    }
    // Past its window without an attempt (an endpoint disabled for longer than that): given up unsent.
    if (startedAt > windowEnd) {
      counts.abandoned++;
      await repo.failed(d.id, owner, { at, responseStatus: null, error: 'expired' }, null, false);
      return;
    }
    // Half-open: only one delivery tries the endpoint after its cool-down; the rest wait for the verdict.
    if (endpoint.consecutiveFailures >= options.breakerThreshold) {
      const trialUntil = new Date(startedAt.getTime() + options.timeoutMs + LEASE_MARGIN_MS).toISOString();
      if (!(await repo.takeTrial(endpoint.id, options.breakerThreshold, at, trialUntil))) {
        await repo.release(d.id, owner);
        return;
      }
    }

    let status: number | null = null;
    let error: string | null = null;
    try {
      const signedAt = now();
      const res = await deps.fetch(endpoint.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Portcullis-Webhooks/1',
          'webhook-id': d.eventId,
          'webhook-timestamp': String(Math.floor(signedAt.getTime() / 1000)),
          'webhook-signature': signatures(secretsOf(endpoint, signedAt), d.eventId, signedAt, d.payload),
        },
        body: d.payload,
      });
      status = res.status;
      // The body is read (bounded by the fetch) only to free the connection; it is never stored.
      await res.arrayBuffer().catch(() => undefined);
      if (status < 200 || status > 299) error = `http_${status}`;
    } catch (err) {
      error = reasonOf(err);
      // Not the receiver's doing (an unreadable secret, a bug): the operator must hear of it. Never the secret itself.
      if (error === 'internal')
        log.error({ deliveryId: d.id, endpointId: endpoint.id, kind: (err as Error)?.name }, 'webhook attempt failed here');
    }
    const doneAt = now().toISOString();
    if (error === null) {
      counts.succeeded++;
      await repo.succeeded(d.id, owner, { at: doneAt, responseStatus: status, error: null });
      if (endpoint.consecutiveFailures > 0 || endpoint.circuitOpenUntil) await repo.closeBreaker(endpoint.id);
      return;
    }
    counts.failed++;
    const next = new Date(Date.parse(doneAt) + backoffMs(d.attempts + 1, options.retryBaseMs, options.retryMaxMs));
    const giveUp = next > windowEnd;
    if (giveUp) counts.abandoned++;
    await repo.failed(d.id, owner, { at: doneAt, responseStatus: status, error }, giveUp ? null : next.toISOString());
    const openUntil = new Date(Date.parse(doneAt) + options.breakerCooldownMs).toISOString();
    const failures = await repo.countFailure(endpoint.id, options.breakerThreshold, openUntil);
    if (failures === options.breakerThreshold) {
      log.warn({ endpointId: endpoint.id, failures, openUntil }, 'webhook endpoint paused: circuit breaker open');
    }
  }

  /** One round: claim what is due and send it. Answers how many rows were claimed. */
  async function round(): Promise<number> {
    const start = now();
    const leaseUntil = new Date(start.getTime() + options.timeoutMs + LEASE_MARGIN_MS).toISOString();
    const claimed = await repo.claim(owner, start.toISOString(), leaseUntil, BATCH);
    if (claimed.length === 0) return 0;
    const endpoints = new Map((await repo.findEndpoints([...new Set(claimed.map((d) => d.endpointId))])).map((e) => [e.id, e]));
    await Promise.all(
      claimed.map((d) =>
        attempt(d, endpoints.get(d.endpointId)).catch((err: unknown) => {
          log.error({ deliveryId: d.id, reason: err instanceof Error ? err.message : 'unknown' }, 'webhook delivery round failed');
        }),
      ),
    );
    return claimed.length;
  }

  function schedule(): void {
    clearTimeout(timer);
    if (stopped) return;
    timer = setTimeout(wake, options.pollMs);
    timer.unref();
  }

  /** Looks for due deliveries now (or right after the round in progress). */
  function wake(): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      try {
        do {
          again = false;
          if ((await round()) === BATCH) again = true;
        } while (again && !stopped);
      } catch (err) {
        log.error({ reason: err instanceof Error ? err.message : 'unknown' }, 'webhook dispatcher round failed');
      } finally {
        running = undefined;
        schedule();
      }
    })();
  }

  return {
    counts: (): Readonly<DeliveryCounts> => ({ ...counts }),
    wake,
    start(): void {
      if (!stopped) return;
      stopped = false;
      wake();
    },
    /** Stops claiming; the round in progress finishes (its attempts are bounded by the timeout). */
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
    /** One round now, for tests and the CLI. */
    round,
  };
}
export type WebhookDispatcher = ReturnType<typeof createWebhookDispatcher>;
