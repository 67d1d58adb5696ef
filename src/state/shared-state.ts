import { Redis } from 'ioredis';

/**
 * State that every instance must agree on: counters, short-lived keys and pub/sub.
 * Redis when configured, process memory otherwise (one instance only).
 */
export interface SharedState {
  readonly kind: 'memory' | 'redis';
  /** The Redis client, for libraries that take one (rate-limiter-flexible). */
  readonly redis: Redis | undefined;
  /** Adds 1 and returns the new value; the key expires `ttlSeconds` after it was created. */
  incr(key: string, ttlSeconds: number): Promise<number>;
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** Sets only when absent; true when this call set it. Atomic across instances. */
  setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  del(key: string): Promise<void>;
  publish(channel: string, message: string): Promise<void>;
  /** Calls `handler` for each message on `channel` (from any instance, this one included). */
  subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function createMemoryState(): SharedState {
  const values = new Map<string, { value: string; expiresAt: number }>();
  const listeners = new Map<string, Set<(message: string) => void>>();
  const live = (key: string): { value: string; expiresAt: number } | undefined => {
    const entry = values.get(key);
    if (entry && entry.expiresAt <= Date.now()) {
      values.delete(key);
      return undefined;
    }
    return entry;
  };
  // Expired entries are also swept now and then so that the map stays bounded.
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [k, v] of values) if (v.expiresAt <= now) values.delete(k);
  }, 30_000);
  sweep.unref();
  return {
    kind: 'memory',
    redis: undefined,
    async incr(key, ttlSeconds) {
      const entry = live(key);
      if (entry) {
        entry.value = String(Number(entry.value) + 1);
        return Number(entry.value);
      }
      values.set(key, { value: '1', expiresAt: Date.now() + ttlSeconds * 1000 });
      return 1;
    },
    async get(key) {
      return live(key)?.value;
    },
    async set(key, value, ttlSeconds) {
      values.set(key, { value, expiresAt: Date.now() + ttlSeconds * 1000 });
    },
    async setIfAbsent(key, value, ttlSeconds) {
      if (live(key)) return false;
      values.set(key, { value, expiresAt: Date.now() + ttlSeconds * 1000 });
      return true;
    },
    async del(key) {
      values.delete(key);
    },
    async publish(channel, message) {
      for (const handler of listeners.get(channel) ?? []) queueMicrotask(() => handler(message));
    },
    async subscribe(channel, handler) {
      let set = listeners.get(channel);
      if (!set) listeners.set(channel, (set = new Set()));
      set.add(handler);
      return async () => {
        set.delete(handler);
      };
    },
    async ping() {},
    async close() {
      clearInterval(sweep);
      values.clear();
      listeners.clear();
    },
  };
}

export function createRedisState(url: string, prefix: string): SharedState {
  const options = {
    keyPrefix: prefix,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    // Commands fail fast while Redis is away instead of queueing without bound.
    enableOfflineQueue: true,
    retryStrategy: (times: number) => Math.min(times * 200, 2000),
  };
  const client = new Redis(url, options);
  client.on('error', () => {});
  let subscriber: Redis | undefined;
  const handlers = new Map<string, Set<(message: string) => void>>();
  const getSubscriber = (): Redis => {
    if (subscriber) return subscriber;
    const sub = new Redis(url, { ...options, keyPrefix: undefined, maxRetriesPerRequest: null });
    sub.on('error', () => {});
    sub.on('message', (channel: string, message: string) => {
      for (const h of handlers.get(channel) ?? []) h(message);
    });
    subscriber = sub;
    return sub;
  };
  return {
    kind: 'redis',
    redis: client,
    async incr(key, ttlSeconds) {
      const [[, count]] = (await client.multi().incr(key).expire(key, ttlSeconds, 'NX').exec()) as [[unknown, number]];
      return count;
    },
    async get(key) {
      return (await client.get(key)) ?? undefined;
    },
    async set(key, value, ttlSeconds) {
      await client.set(key, value, 'EX', ttlSeconds);
    },
    async setIfAbsent(key, value, ttlSeconds) {
      return (await client.set(key, value, 'EX', ttlSeconds, 'NX')) === 'OK';
    },
    async del(key) {
      await client.del(key);
    },
    async publish(channel, message) {
      await client.publish(prefix + channel, message);
    },
    async subscribe(channel, handler) {
      const full = prefix + channel;
      let set = handlers.get(full);
      if (!set) {
        handlers.set(full, (set = new Set()));
        await getSubscriber().subscribe(full);
      }
      set.add(handler);
      return async () => {
        set.delete(handler);
        if (set.size === 0) {
          handlers.delete(full);
          await subscriber?.unsubscribe(full);
        }
      };
    },
    async ping() {
      await client.ping();
    },
    async close() {
      client.disconnect();
      subscriber?.disconnect();
    },
  };
}

export function createSharedState(redisUrl: string | undefined, prefix: string): SharedState {
  return redisUrl ? createRedisState(redisUrl, prefix) : createMemoryState();
}
