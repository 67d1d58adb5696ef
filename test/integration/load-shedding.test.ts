import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp, type TestResponse } from '../helpers/test-app.js';

/**
 * Load shedding (@fastify/under-pressure, PORTCULLIS_MAX_EVENT_LOOP_DELAY_MS): every other test app
 * turns it off, since parallel files on a shared machine stall the loop. Here it is on, and the
 * app's own event loop (this process's) is held by synchronous work on every turn, as a CPU-bound
 * handler would hold it. No assertion depends on how fast the machine is: every sample of the loop
 * delay taken during the overload is at least BLOCK_MS, three times the limit, and the test waits
 * (with generous bounds) for shedding to start after the boot's grace period and to stop after.
 * @see issue 15
 */

const MAX_DELAY_MS = 100;
/** How long each turn of the event loop is held during the overload. */
const BLOCK_MS = 300;
const BOUND_MS = 20_000;

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ PORTCULLIS_MAX_EVENT_LOOP_DELAY_MS: String(MAX_DELAY_MS) });
});
afterAll(async () => {
  await t?.close();
});

/** Holds every turn of the event loop for BLOCK_MS (I/O still runs between turns) until stopped. */
function overload(): () => void {
  let on = true;
  const turn = () => {
    if (!on) return;
    const until = performance.now() + BLOCK_MS;
    while (performance.now() < until) {
      // busy: nothing else runs on this loop meanwhile
    }
    setImmediate(turn);
  };
  setImmediate(turn);
  return () => {
    on = false;
  };
}

/** Asks `GET /healthz` until the answer has `status`, at most BOUND_MS; every other answer must be `other`. */
async function until(status: number, other: number): Promise<TestResponse | undefined> {
  const deadline = Date.now() + BOUND_MS;
  while (Date.now() < deadline) {
    const res = await t.req('GET', '/healthz');
    if (res.status === status) return res;
    expect(res.status, res.text).toBe(other);
    await sleep(50);
  }
  return undefined;
}

describe('load shedding', () => {
  it('answers 503 service.unavailable with the error body while the event loop is held, and recovers', async () => {
    const stop = overload();
    try {
      const shed = await until(503, 200);
      expect(shed, 'no request was shed while the event loop was held').toBeDefined();
      expect(shed?.headers.get('content-type')).toMatch(/^application\/json/);
      expect(shed?.body).toEqual({
        success: false,
        code: 14,
        message: 'The service is temporarily unavailable.',
        error: 'service.unavailable',
        status: 503,
      });
      // Every route is shed before any work, authenticated ones included.
      const api = await t.req('GET', '/v1/auth/user', { apiKey: t.adminKey });
      expect(api.status, api.text).toBe(503);
      expect(api.body).toMatchObject({ success: false, error: 'service.unavailable', status: 503 });
    } finally {
      stop();
    }
    expect(await until(200, 503), 'still shedding long after the event loop was freed').toBeDefined();
    const api = await t.req('GET', '/v1/auth/user', { apiKey: t.adminKey });
    expect(api.status, api.text).toBe(200);
  });
});
