/**
 * Webhooks (README "Lifecycle events, leak response, revocation across servers"): subscriptions of an entity to the lifecycle events of its
 * subtree, the Standard Webhooks payload they receive, and their delivery log.
 */
import { z } from 'zod';
import { Id, PageQuery, page, Timestamp } from './common.ts';
import { Token } from './token.ts';

export const WEBHOOK_EVENT_TYPES = [
  'token.created',
  'token.updated',
  'token.rotated',
  'token.deleted',
  'token.expiring',
  'token.expired',
  'token.usage_low',
  'token.exposed',
] as const;
export const WebhookEventType = z.enum(WEBHOOK_EVENT_TYPES);
export type WebhookEventType = z.infer<typeof WebhookEventType>;

export const WebhookUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
  .max(2048)
  .meta({ description: 'Where deliveries are POSTed' });

export const CreateWebhookRequest = z.strictObject({
  url: WebhookUrl,
  events: z
    .array(WebhookEventType)
    .min(1, 'name at least one event')
    .max(WEBHOOK_EVENT_TYPES.length)
    .refine((events) => new Set(events).size === events.length, 'each event at most once')
    .meta({
      description: 'The events to receive, for this entity and every descendant',
      uniqueItems: true,
    }),
});
export type CreateWebhookRequest = z.infer<typeof CreateWebhookRequest>;

export const Webhook = z.object({
  id: Id,
  entityId: Id,
  url: z.string(),
  events: z.array(WebhookEventType),
  createdAt: Timestamp,
});
export type Webhook = z.infer<typeof Webhook>;

export const WebhookWithSecret = Webhook.extend({
  secret: z.string().meta({
    description:
      'Standard Webhooks signing secret (`whsec_…`); shown only in this response. Verify `webhook-signature` with it.',
  }),
});
export type WebhookWithSecret = z.infer<typeof WebhookWithSecret>;

export const WebhookList = z.object({ items: z.array(Webhook) });

export const DeliveryStatus = z.enum(['pending', 'delivered', 'failed']);

export const WebhookDelivery = z.object({
  id: Id,
  webhookId: Id,
  eventId: Id.meta({ description: 'The `webhook-id` header of every attempt' }),
  eventType: WebhookEventType,
  status: DeliveryStatus.meta({
    description: 'pending (retrying with backoff), delivered (a 2xx answer) or failed (gave up)',
  }),
  attempts: z.number().int(),
  lastAttemptAt: Timestamp.nullable(),
  nextAttemptAt: Timestamp.nullable(),
  responseStatus: z
    .number()
    .int()
    .nullable()
    .meta({ description: 'HTTP status of the last attempt' }),
  error: z.string().nullable().meta({ description: 'Why the last attempt failed' }),
  deliveredAt: Timestamp.nullable(),
  createdAt: Timestamp,
});
export type WebhookDelivery = z.infer<typeof WebhookDelivery>;

export const DeliveryPage = page(WebhookDelivery);
export const DeliveryQuery = PageQuery;

/** The JSON body of a delivery (Standard Webhooks: type, timestamp, data). Never a token value. */
export const WebhookPayload = z.object({
  type: WebhookEventType,
  timestamp: Timestamp,
  data: z.object({
    entityId: Id,
    /** The token as it is now (token.usage_low: its `usage` crossed 80 %); never its value. */
    token: Token.partial().extend({ id: Id }),
    /** token.expiring: how long before expiry this notice is. */
    notice: z.enum(['7d', '1d']).optional(),
    /** token.exposed: where the value was found, and which value it was. */
    exposure: z
      .object({
        url: z.string().nullable(),
        source: z.string().nullable(),
        value: z.enum(['current', 'previous']),
      })
      .optional(),
  }),
});
export type WebhookPayload = z.infer<typeof WebhookPayload>;
