import { Type } from 'typebox';
import { Nullable, PageQuery } from '../http/index.js';

const EventType = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^(\\*|[a-z_]+\\.[a-z_]+)$',
  description: 'An audit action (docs/audit.md), or `*` for every action.',
});
const Url = Type.String({
  minLength: 1,
  maxLength: 2048,
  format: 'uri',
  description:
    'Where deliveries are POSTed: https, on a public address (http and private addresses only with PORTCULLIS_WEBHOOKS_ALLOW_PRIVATE_HOSTS).',
});

export const WebhookParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });
export const DeliveryParams = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 64 }), deliveryId: Type.String({ minLength: 1, maxLength: 160 }) },
  { additionalProperties: false },
);

export const CreateWebhookBody = Type.Object(
  {
    url: Url,
    description: Type.Optional(Type.String({ maxLength: 500 })),
    eventTypes: Type.Array(EventType, { minItems: 1, maxItems: 200 }),
    enabled: Type.Optional(Type.Boolean({ default: true })),
  },
  { additionalProperties: false, title: 'CreateWebhook' },
);

export const UpdateWebhookBody = Type.Object(
  {
    url: Type.Optional(Url),
    description: Type.Optional(Type.String({ maxLength: 500 })),
    eventTypes: Type.Optional(Type.Array(EventType, { minItems: 1, maxItems: 200 })),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, title: 'UpdateWebhook' },
);

export const RotateSecretBody = Type.Object(
  {
    graceSeconds: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 604_800,
        description: 'How long the old secret keeps signing beside the new one (default PORTCULLIS_WEBHOOKS_SECRET_GRACE); 0 drops it now.',
      }),
    ),
  },
  { additionalProperties: false },
);

const webhookProperties = {
  id: Type.String(),
  name: Type.String({ description: '`webhooks/{id}`' }),
  url: Type.String(),
  description: Type.String(),
  eventTypes: Type.Array(Type.String()),
  enabled: Type.Boolean(),
  circuit: Type.Object({
    state: Type.Union([Type.Literal('closed'), Type.Literal('open'), Type.Literal('half_open')]),
    consecutiveFailures: Type.Integer(),
    openUntil: Nullable(Type.String()),
  }),
  previousSecretExpiresAt: Nullable(
    Type.String({ description: 'While set, deliveries carry a second signature under the previous secret.' }),
  ),
  createdAt: Type.String(),
  updatedAt: Type.String(),
};

/** An endpoint as the API shows it: never its secret. */
export const WebhookSchema = Type.Object(webhookProperties, { $id: 'Webhook', title: 'Webhook' });

/** An endpoint with its signing secret: answered once, on creation and on rotation. */
export const WebhookWithSecretSchema = Type.Object(
  {
    ...webhookProperties,
    secret: Type.String({ description: 'The signing secret (`whsec_…`), shown only in this response.' }),
  },
  { $id: 'WebhookWithSecret', title: 'WebhookWithSecret' },
);

export const ListWebhooksQuery = Type.Object({ ...PageQuery });
export const ListWebhooksResponse = Type.Object({ webhooks: Type.Array(Type.Ref('Webhook')), nextPageToken: Type.String() });

export const DeliverySchema = Type.Object(
  {
    id: Type.String(),
    webhookId: Type.String(),
    eventId: Type.String({ description: 'The `webhook-id` header: the same on every attempt and replay.' }),
    eventType: Type.String(),
    status: Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')]),
    attempts: Type.Integer(),
    nextAttemptAt: Nullable(Type.String()),
    lastAttemptAt: Nullable(Type.String()),
    lastResponseStatus: Nullable(Type.Integer()),
    lastError: Nullable(
      Type.String({ description: '`http_<status>`, `timeout`, `network`, `blocked_address`, `blocked_url`, `expired`…' }),
    ),
    replayOf: Nullable(Type.String()),
    createdAt: Type.String(),
    deliveredAt: Nullable(Type.String()),
    payload: Type.Unknown({ description: 'The body sent: `{type, timestamp, data}`.' }),
  },
  { $id: 'WebhookDelivery', title: 'WebhookDelivery' },
);

export const ListDeliveriesQuery = Type.Object({
  status: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')])),
  ...PageQuery,
});
export const ListDeliveriesResponse = Type.Object({ deliveries: Type.Array(Type.Ref('WebhookDelivery')), nextPageToken: Type.String() });
