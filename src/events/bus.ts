import type { RequestContext } from '../auth/index.js';
import type { Logger } from '../log/index.js';
import type { SharedState } from '../state/index.js';

/** Why a user's sessions and API keys are being ended. */
export type RevocationReason = 'user_deactivated' | 'user_demoted' | 'password_set';

/**
 * Lifecycle events, published by the domain that owns the change after it is written, and heard in
 * process. Listeners run in registration order and are awaited: a revocation has happened when
 * `emit` returns, and a listener's failure fails the change that caused it.
 */
export interface DomainEvents {
  /** A user's sessions and API keys must end: deactivated or deleted, demoted, or a password set by an administrator. */
  'user.access_revoked': { ctx: RequestContext; userId: string; reason: RevocationReason };
  /** A password was set by an administrator, changed by its user, or reset with a mailed token. */
  'user.password_set': { ctx: RequestContext | undefined; userId: string; kind: 'admin_set' | 'changed' | 'reset' };
}

/**
 * What every instance must hear within a second (through shared state: Redis between instances,
 * in process otherwise). The publishing instance applies it at once as well.
 */
export interface BroadcastTopics {
  /** Sessions revoked: drop their cached token verdicts. */
  'sessions.revoked': string[];
  /** API keys revoked or their owners changed: drop cached key verdicts. */
  'api_keys.changed': true;
  /** Users whose account view changed: drop their cached `GET /v1/auth/user` views. */
  'account.changed': string[];
  /** A new token-signing key (its kid): sign with it and publish it in the JWKS. */
  'signing_keys.rotated': string;
  /** New webhook deliveries are waiting in the outbox: every instance's dispatcher looks at once. */
  'webhooks.pending': true;
  /** An organization's webhook endpoints changed (its id): drop the outbox's cached routing. */
  'webhooks.endpoints_changed': string;
}

type Listener<T> = (payload: T) => Promise<void> | void;

export interface EventBus {
  on<K extends keyof DomainEvents>(name: K, listener: Listener<DomainEvents[K]>): void;
  emit<K extends keyof DomainEvents>(name: K, payload: DomainEvents[K]): Promise<void>;
  /** Runs `handler` for this topic whenever any instance (this one included) broadcasts it. */
  onBroadcast<K extends keyof BroadcastTopics>(topic: K, handler: (payload: BroadcastTopics[K]) => void): void;
  /**
   * Applies the message here, then publishes it to the other instances — once the current
   * transaction (if any) has committed. A failed publish is
   * logged and counted (`portcullis_broadcast_failures_total`), never swallowed; it does not fail the
   * change, which is already written and applied here (the other instances' caches expire on their own).
   */
  broadcast<K extends keyof BroadcastTopics>(topic: K, payload: BroadcastTopics[K]): Promise<void>;
  /** Failed publishes by topic, for `/metrics`. */
  broadcastFailures(): Readonly<Record<string, number>>;
  /** Subscribes to the shared-state channels of the topics handled here. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface EventBusDeps {
  state: SharedState;
  log: Logger;
  /**
   * Holds a broadcast until the current transaction commits (`storage.afterCommit`): a cache dropped
   * before the change is visible would be refilled with what is about to change.
   */
  afterCommit?: (fn: () => Promise<void>) => Promise<void>;
}

const CHANNEL_PREFIX = 'events.';

/** The in-process event bus, with shared state carrying broadcasts to the other instances. */
export function createEventBus(deps: EventBusDeps): EventBus {
  const listeners = new Map<string, Listener<never>[]>();
  const handlers = new Map<string, ((payload: never) => void)[]>();
  const failures: Record<string, number> = {};
  const unsubscribes: (() => Promise<void>)[] = [];

  function deliver(topic: string, payload: unknown): void {
    for (const handler of handlers.get(topic) ?? []) handler(payload as never);
  }

  return {
    on(name, listener) {
      const list = listeners.get(name) ?? [];
      list.push(listener as Listener<never>);
      listeners.set(name, list);
    },
    async emit(name, payload) {
      for (const listener of listeners.get(name) ?? []) await listener(payload as never);
    },
    onBroadcast(topic, handler) {
      const list = handlers.get(topic) ?? [];
      list.push(handler as (payload: never) => void);
      handlers.set(topic, list);
    },
    async broadcast(topic, payload) {
      const send = async (): Promise<void> => {
        deliver(topic, payload);
        try {
          await deps.state.publish(CHANNEL_PREFIX + topic, JSON.stringify(payload));
        } catch (err) {
          failures[topic] = (failures[topic] ?? 0) + 1;
          deps.log.warn({ topic, reason: err instanceof Error ? err.message : 'unknown' }, 'broadcast to other instances failed');
        }
      };
      await (deps.afterCommit ? deps.afterCommit(send) : send());
    },
    broadcastFailures: () => ({ ...failures }),
    async start() {
      for (const topic of handlers.keys()) {
        unsubscribes.push(
          await deps.state.subscribe(CHANNEL_PREFIX + topic, (message) => {
            let payload: unknown;
            try {
              payload = JSON.parse(message);
            } catch {
              deps.log.warn({ topic }, 'ignored a malformed broadcast');
              return;
            }
            deliver(topic, payload);
          }),
        );
      }
    },
    async stop() {
      for (const unsubscribe of unsubscribes.splice(0)) await unsubscribe();
    },
  };
}
