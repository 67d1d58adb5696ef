/** autocannon, measured the same way for every row. */
import autocannon from 'autocannon';

export interface LoadOptions {
  url: string;
  connections: number;
  duration: number;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  requests?: autocannon.Request[];
  setupClient?: (client: autocannon.Client) => void;
  /** Stop after this many requests instead of after `duration` (a pool of one-use credentials). */
  amount?: number;
  /** Requests of the warm-up, when `amount` is used. */
  warmupAmount?: number;
}

export interface Measurement {
  rps: number;
  p50: number;
  p99: number;
  /** non-2xx responses + socket errors + timeouts */
  errors: number;
  total: number;
  /** Count per non-2xx status code (and `error`/`timeout`), for the notes. */
  failures: Record<string, number>;
}

async function once(options: LoadOptions): Promise<Measurement> {
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    ...(options.amount ? { amount: options.amount } : { duration: options.duration }),
    method: options.method ?? 'GET',
    headers: options.headers ?? {},
    ...(options.body !== undefined ? { body: options.body } : {}),
    ...(options.requests ? { requests: options.requests } : {}),
    ...(options.setupClient ? { setupClient: options.setupClient } : {}),
    timeout: 30,
  });
  const ok = result['2xx'];
  const failures: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) {
    if (!code.startsWith('2')) failures[code] = (stat as { count: number }).count;
  }
  if (result.errors) failures.error = result.errors;
  if (result.timeouts) failures.timeout = result.timeouts;
  return {
    failures,
    rps: ok / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.non2xx + result.errors + result.timeouts,
    total: result.requests.total,
  };
}

/**
 * A short warm-up (JIT, caches, pools), `settle()` (the server drains what the warm-up queued),
 * then the measured run. Several targets run in parallel and sum.
 */
export async function measure(targets: LoadOptions[], warmupSeconds: number, settle: () => Promise<void>): Promise<Measurement> {
  if (warmupSeconds > 0) {
    await Promise.all(targets.map((t) => once(t.amount ? { ...t, amount: t.warmupAmount ?? 100 } : { ...t, duration: warmupSeconds })));
    await settle();
  }
  const results = await Promise.all(targets.map((t) => once(t)));
  return {
    rps: results.reduce((s, r) => s + r.rps, 0),
    p50: Math.max(...results.map((r) => r.p50)),
    p99: Math.max(...results.map((r) => r.p99)),
    errors: results.reduce((s, r) => s + r.errors, 0),
    total: results.reduce((s, r) => s + r.total, 0),
    failures: results.reduce<Record<string, number>>((acc, r) => {
      for (const [k, v] of Object.entries(r.failures)) acc[k] = (acc[k] ?? 0) + v;
      return acc;
    }, {}),
  };
}

/**
 * An autocannon `setupClient` that gives each connection its own rotating refresh-token chain.
 * (A request's `context` cannot hold it: autocannon clears the context after every pass through
 * the `requests` list, that is after every request here.)
 */
export function refreshChain(pool: string[]): (client: autocannon.Client) => void {
  return (client) => {
    let chunks: Buffer[] = [];
    const use = (token: string | undefined): void => client.setBody(JSON.stringify({ refreshToken: token ?? 'pool-exhausted' }));
    use(pool.pop());
    client.on('body', (chunk: Buffer) => chunks.push(chunk));
    client.on('response', (status: number) => {
      const text = Buffer.concat(chunks).toString('utf8');
      chunks = [];
      if (status === 200) use((JSON.parse(text) as { refreshToken: string }).refreshToken);
      else use(pool.pop());
    });
  };
}
