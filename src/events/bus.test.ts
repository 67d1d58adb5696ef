import { describe, expect, it } from 'vitest';
import type { Logger } from '../log/index.js';
import { createMemoryState, type SharedState } from '../state/index.js';
import { createEventBus } from './bus.js';

const recorder = () => {
  const lines: { obj: Record<string, unknown>; msg: string }[] = [];
  const log: Logger = {
    debug: () => {},
    info: () => {},
    warn: (obj, msg) => lines.push({ obj, msg }),
    error: () => {},
    child: () => log,
  };
  return { log, lines };
};

describe('event bus', () => {
  it('awaits in-process listeners in order and lets a failure fail the emit', async () => {
    const bus = createEventBus({ state: createMemoryState(), log: recorder().log });
    const order: string[] = [];
    bus.on('user.access_revoked', async ({ userId }) => {
      await new Promise((r) => setTimeout(r, 5));
      order.push(`sessions:${userId}`);
    });
    bus.on('user.access_revoked', ({ userId }) => {
      order.push(`keys:${userId}`);
    });
    await bus.emit('user.access_revoked', { ctx: undefined as never, userId: 'u1', reason: 'user_demoted' });
    expect(order).toEqual(['sessions:u1', 'keys:u1']);
    bus.on('user.password_set', () => {
      throw new Error('listener failed');
    });
    await expect(bus.emit('user.password_set', { ctx: undefined, userId: 'u1', kind: 'changed' })).rejects.toThrow('listener failed');
  });

  it('delivers a broadcast here at once and on the other instances through shared state', async () => {
    const state = createMemoryState();
    const here = createEventBus({ state, log: recorder().log });
    const there = createEventBus({ state, log: recorder().log });
    const seenHere: string[][] = [];
    const seenThere: string[][] = [];
    here.onBroadcast('sessions.revoked', (ids) => seenHere.push(ids));
    there.onBroadcast('sessions.revoked', (ids) => seenThere.push(ids));
    await there.start();
    await here.broadcast('sessions.revoked', ['s1']);
    expect(seenHere).toEqual([['s1']]);
    await new Promise((r) => setTimeout(r, 10));
    expect(seenThere).toEqual([['s1']]);
    await there.stop();
  });

  it('logs and counts a broadcast that cannot be published, and still applies it here', async () => {
    const broken: SharedState = {
      ...createMemoryState(),
      publish: async () => {
        throw new Error('redis down');
      },
    };
    const { log, lines } = recorder();
    const bus = createEventBus({ state: broken, log });
    const seen: boolean[] = [];
    bus.onBroadcast('api_keys.changed', () => seen.push(true));
    await bus.broadcast('api_keys.changed', true);
    await bus.broadcast('api_keys.changed', true);
    expect(seen).toEqual([true, true]);
    expect(bus.broadcastFailures()).toEqual({ 'api_keys.changed': 2 });
    expect(lines[0]).toMatchObject({ obj: { topic: 'api_keys.changed', reason: 'redis down' } });
  });
});
