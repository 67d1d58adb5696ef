import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { type Secret, secretEquals } from '../crypto/index.js';
import { AppError } from '../errors/index.js';

/**
 * The scraper's credential: `Authorization: Bearer <PORTCULLIS_METRICS_TOKEN>`, compared in
 * constant time. Why not the guard's credentials: metrics are an operator's concern, not an
 * organization's, and the token must not be able to do anything else.
 */
function assertScraper(req: FastifyRequest, token: Secret): void {
  const header = req.headers.authorization;
  if (typeof header !== 'string' || header.trim() === '') throw new AppError('auth.unauthenticated', { detail: 'no metrics token' });
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header.trim());
  if (!match || !secretEquals(token, match[1] as string)) throw new AppError('auth.invalid_credentials', { detail: 'wrong metrics token' });
}

const METRICS_SCHEMA = {
  operationId: 'getMetrics',
  tags: ['ops'],
  summary: 'Prometheus metrics',
  description:
    'Request counts and durations by route and status, broadcast failures and process metrics, in the Prometheus text format. ' +
    'Only for `Authorization: Bearer <PORTCULLIS_METRICS_TOKEN>`; without that option the route answers 404 `route.not_found`.',
  security: [{ metricsToken: [] }],
  response: {
    200: { description: 'Prometheus text exposition format 0.0.4', content: { 'text/plain': { schema: { type: 'string' } } } },
    401: { $ref: 'ErrorBody#' },
    404: { $ref: 'ErrorBody#' },
  },
};

/**
 * Request counts and durations by route and status, plus process metrics, at `GET /metrics` for
 * the bearer of `PORTCULLIS_METRICS_TOKEN`. Without a token nothing is collected and the route
 * answers 404 `route.not_found` (it stays in the OpenAPI document, which does not depend on the
 * configuration): route names, error rates and process figures help an attacker map the service.
 */
/** What the webhooks domain reports: attempts by outcome since start, and the deliveries waiting. */
export interface WebhookMetricsSource {
  counts(): Readonly<{ succeeded: number; failed: number; abandoned: number }>;
  outboxDepth(): Promise<number>;
}

export function registerMetrics(
  app: FastifyInstance,
  token: Secret | undefined,
  broadcasts?: { broadcastFailures(): Readonly<Record<string, number>> },
  webhooks?: WebhookMetricsSource,
): Registry | undefined {
  if (!token) {
    app.get('/metrics', { config: { auth: 'none' }, schema: METRICS_SCHEMA }, async () => {
      throw new AppError('route.not_found', { detail: 'metrics are off (no PORTCULLIS_METRICS_TOKEN)' });
    });
    return undefined;
  }
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  if (broadcasts) {
    // Why: a lost broadcast means another instance serves a revoked session or a stale view until its cache expires.
    new Counter({
      name: 'portcullis_broadcast_failures_total',
      help: 'Broadcasts to the other instances (revocations, cache invalidations) that could not be published, by topic',
      labelNames: ['topic'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const [topic, count] of Object.entries(broadcasts.broadcastFailures())) this.inc({ topic }, count);
      },
    });
  }
  if (webhooks) {
    new Counter({
      name: 'portcullis_webhook_deliveries_total',
      help: 'Webhook delivery attempts by this instance, by outcome (succeeded, failed and retried later, abandoned after the retry window)',
      labelNames: ['outcome'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const [outcome, count] of Object.entries(webhooks.counts())) this.inc({ outcome }, count);
      },
    });
    new Gauge({
      name: 'portcullis_webhook_outbox_depth',
      help: 'Webhook deliveries waiting to be sent (pending, every instance)',
      registers: [registry],
      async collect() {
        this.set(await webhooks.outboxDepth());
      },
    });
  }
  const requests = new Counter({
    name: 'portcullis_http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const durations = new Histogram({
    name: 'portcullis_http_request_duration_seconds',
    help: 'HTTP request duration by route',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    requests.inc({ method: req.method, route, status: String(reply.statusCode) });
    durations.observe({ method: req.method, route }, reply.elapsedTime / 1000);
    done();
  });
  // `auth: 'none'`: the guard does not read this route's Authorization header; the token check does.
  app.get('/metrics', { config: { auth: 'none' }, schema: METRICS_SCHEMA }, async (req, reply) => {
    assertScraper(req, token);
    return reply.type(registry.contentType).send(await registry.metrics());
  });
  return registry;
}
