import { z } from 'zod';
import { PROBLEMS, TRANSPORT_PROBLEMS } from '../domain/problems.ts';

/** Every slug a problem's `type` may end in, with its status: the document lists them. */
const SLUGS = Object.entries({ ...PROBLEMS, ...TRANSPORT_PROBLEMS })
  .map(([slug, { status }]) => `${slug} (${status})`)
  .join(', ');

/** RFC 9457 problem details, with tokenplane's extension members. */
export const Problem = z.looseObject({
  type: z.string().meta({ description: `A URI ending in the problem's slug: ${SLUGS}` }),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  instance: z.string().optional(),
  errors: z
    .array(z.object({ path: z.string(), message: z.string() }))
    .optional()
    .meta({ description: 'Field-level details of a validation problem' }),
  tier: z.string().optional(),
  quota: z.number().int().optional(),
  inUse: z.number().int().optional(),
  scopes: z.array(z.string()).optional().meta({
    description:
      'scope-above-tier: the scopes above the tier; scope-insufficient: the token’s scopes',
  }),
  requiredTier: z.string().optional().meta({ description: 'The tier a metric or scope needs' }),
  tokens: z
    .array(z.object({ id: z.string(), name: z.string(), scopes: z.array(z.string()) }))
    .optional()
    .meta({ description: 'scope-above-tier on a downgrade: the tokens holding such scopes' }),
  retryAfter: z.number().int().optional().meta({
    description:
      'rate-limited: seconds to wait; grace-limit: seconds until the first grace ends, making room',
  }),
  limit: z.number().int().optional().meta({
    description:
      'usage-exceeded: the usage limit; grace-limit: how many replaced values may be in their grace at once',
  }),
  tokenId: z.string().optional().meta({
    description: 'token-exposed, grace-limit: the token (rotate it; or rotate without a grace)',
  }),
  period: z.enum(['day', 'month', 'total']).optional(),
  resetsAt: z
    .string()
    .nullable()
    .optional()
    .meta({ description: 'usage-exceeded: when the period resets; null for a total limit' }),
  id: z.string().optional().meta({
    description: 'idempotency-gone: the object the Idempotency-Key created, now gone',
  }),
  gone: z.string().optional().meta({
    description: 'idempotency-gone: what is gone (entity, token, access key, webhook)',
  }),
  entityId: z.string().optional().meta({
    description:
      'idempotency-gone on an entity create whose default token is gone: the entity, which still exists',
  }),
});
export type Problem = z.infer<typeof Problem>;
