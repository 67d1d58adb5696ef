import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { byCreation, ctx, errors, keysetPage } from '../http/index.js';
import {
  CreateWebhookBody,
  DeliveryParams,
  DeliverySchema,
  ListDeliveriesQuery,
  ListDeliveriesResponse,
  ListWebhooksQuery,
  ListWebhooksResponse,
  RotateSecretBody,
  UpdateWebhookBody,
  WebhookParams,
  WebhookSchema,
  WebhookWithSecretSchema,
} from './webhooks.schemas.js';
import type { WebhooksService } from './webhooks.service.js';

const webhook = Type.Ref('Webhook');
const withSecret = Type.Ref('WebhookWithSecret');
const delivery = Type.Ref('WebhookDelivery');

/** Newest first: the cursor is the last row's (createdAt, id). */
const newestFirst = {
  cursorOf: (row: { createdAt: string; id: string }) => [row.createdAt, row.id],
  decode: (parts: (string | number)[]) => ({ createdAt: String(parts[0]), id: String(parts[1]) }),
};

/** `/v1/webhooks`: an organization's endpoints, their delivery logs, replay and secret rotation. */
export const webhooksRoutes: FastifyPluginAsyncTypebox<{ services: { webhooks: WebhooksService } }> = async (app, { services }) => {
  const { webhooks } = services;
  app.addSchema(WebhookSchema);
  app.addSchema(WebhookWithSecretSchema);
  app.addSchema(DeliverySchema);

  app.post(
    '/v1/webhooks',
    {
      config: { scopes: ['webhooks:write'] },
      schema: {
        operationId: 'createWebhook',
        tags: ['webhooks'],
        summary: 'Create a webhook endpoint',
        description:
          'Events of the caller’s organization whose audit action is in `eventTypes` (or every action with `*`) are POSTed to `url`, signed per Standard Webhooks. The signing `secret` is in this response only; it is stored encrypted.',
        body: CreateWebhookBody,
        response: { 201: withSecret, ...errors(400, 401, 403, 413, 415) },
      },
    },
    async (req, reply) => reply.code(201).send(await webhooks.create(ctx(req), req.body)),
  );

  app.get(
    '/v1/webhooks',
    {
      config: { scopes: ['webhooks:read'] },
      schema: {
        operationId: 'listWebhooks',
        tags: ['webhooks'],
        summary: 'List the organization’s webhook endpoints',
        description: 'Oldest first, `pageSize` at a time; `nextPageToken` is empty on the last page. Secrets are never listed.',
        querystring: ListWebhooksQuery,
        response: { 200: ListWebhooksResponse, ...errors(400, 401, 403) },
      },
    },
    async (req) => {
      const { pageSize = 50, pageToken } = req.query;
      const { rows, nextPageToken } = await keysetPage({ pageSize, pageToken }, byCreation(), (after, limit) =>
        webhooks.list(ctx(req), after, limit),
      );
      return { webhooks: rows, nextPageToken };
    },
  );

  app.get(
    '/v1/webhooks/:id',
    {
      config: { scopes: ['webhooks:read'] },
      schema: {
        operationId: 'getWebhook',
        tags: ['webhooks'],
        summary: 'Get a webhook endpoint',
        description: 'With its circuit breaker’s state. Never its secret.',
        params: WebhookParams,
        response: { 200: webhook, ...errors(401, 403, 404) },
      },
    },
    async (req) => webhooks.get(ctx(req), req.params.id),
  );

  app.patch(
    '/v1/webhooks/:id',
    {
      config: { scopes: ['webhooks:write'] },
      schema: {
        operationId: 'updateWebhook',
        tags: ['webhooks'],
        summary: 'Update a webhook endpoint',
        description:
          'Changes the URL, description, event types or `enabled`. A disabled endpoint receives no new events; what is already queued waits. Enabling it or changing its URL closes its circuit breaker.',
        params: WebhookParams,
        body: UpdateWebhookBody,
        response: { 200: webhook, ...errors(400, 401, 403, 404, 413, 415) },
      },
    },
    async (req) => webhooks.update(ctx(req), req.params.id, req.body),
  );

  app.delete(
    '/v1/webhooks/:id',
    {
      config: { scopes: ['webhooks:write'] },
      schema: {
        operationId: 'deleteWebhook',
        tags: ['webhooks'],
        summary: 'Delete a webhook endpoint and its delivery log',
        description: 'Deliveries still queued for it are dropped.',
        params: WebhookParams,
        response: { 200: Type.Object({ success: Type.Boolean() }), ...errors(401, 403, 404) },
      },
    },
    async (req) => {
      await webhooks.remove(ctx(req), req.params.id);
      return { success: true };
    },
  );

  app.post(
    '/v1/webhooks/:id/rotate-secret',
    {
      config: { scopes: ['webhooks:write'] },
      schema: {
        operationId: 'rotateWebhookSecret',
        tags: ['webhooks'],
        summary: 'Replace a webhook endpoint’s signing secret',
        description:
          'Answers the new `secret` once. For `graceSeconds` (default `PORTCULLIS_WEBHOOKS_SECRET_GRACE`) every delivery carries two signatures, under the new and the old secret, so a receiver verifying with either accepts it.',
        params: WebhookParams,
        body: RotateSecretBody,
        response: { 200: withSecret, ...errors(400, 401, 403, 404, 413, 415) },
      },
      // Why: `curl -X POST` sends no body at all; it means the defaults, as `{}` does.
      preValidation: async (req) => {
        if (req.body === undefined || req.body === null) req.body = {};
      },
    },
    async (req) => webhooks.rotateSecret(ctx(req), req.params.id, req.body),
  );

  app.get(
    '/v1/webhooks/:id/deliveries',
    {
      config: { scopes: ['webhooks:read'] },
      schema: {
        operationId: 'listWebhookDeliveries',
        tags: ['webhooks'],
        summary: 'A webhook endpoint’s delivery log',
        description:
          'Newest first: each event queued for the endpoint, its status (`pending`, `succeeded`, `failed` = given up after the retry window), attempts, the last answer’s status or failure reason, and the body sent.',
        params: WebhookParams,
        querystring: ListDeliveriesQuery,
        response: { 200: ListDeliveriesResponse, ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => {
      const { pageSize = 50, pageToken, status } = req.query;
      const { rows, nextPageToken } = await keysetPage({ pageSize, pageToken }, newestFirst, (before, limit) =>
        webhooks.listDeliveries(ctx(req), req.params.id, { status }, before, limit),
      );
      return { deliveries: rows, nextPageToken };
    },
  );

  app.post(
    '/v1/webhooks/:id/deliveries/:deliveryId/replay',
    {
      config: { scopes: ['webhooks:write'] },
      schema: {
        operationId: 'replayWebhookDelivery',
        tags: ['webhooks'],
        summary: 'Send a delivery again',
        description:
          'Queues the same event (same body, same `webhook-id`) for the endpoint as a new delivery with a fresh retry window; answers it (202).',
        params: DeliveryParams,
        response: { 202: delivery, ...errors(401, 403, 404) },
      },
    },
    async (req, reply) => reply.code(202).send(await webhooks.replay(ctx(req), req.params.id, req.params.deliveryId)),
  );
};
