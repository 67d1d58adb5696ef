import type { TestApp } from './test-app.js';

/**
 * Waits until the app stops answering 503: @fastify/under-pressure reports the event-loop delay of
 * start-up (keys generated, providers started in this same process) for its first sample.
 */
export async function settled(t: TestApp, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await t.req('GET', '/healthz')).status === 200) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}
