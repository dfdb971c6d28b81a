import { z } from 'zod';
import { Id, Name, PageQuery, page, StoredName, TierName, Timestamp } from './common.ts';
import { TokenWithValue } from './token.ts';

export const EntityKind = z.enum(['reseller', 'customer']);
export type EntityKind = z.infer<typeof EntityKind>;

export const Entity = z.object({
  id: Id,
  name: StoredName,
  kind: EntityKind,
  parentId: Id.nullable(),
  tier: TierName,
  tokenQuota: z.number().int(),
  tokenCount: z.number().int(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Entity = z.infer<typeof Entity>;

export const CreateEntityRequest = z.strictObject({
  name: Name,
  kind: EntityKind,
  parentId: Id.nullable()
    .optional()
    .meta({ description: 'Parent reseller; omit for a top-level entity (administrator only)' }),
  tier: TierName.optional(),
  defaultToken: z
    .boolean()
    .optional()
    .meta({ description: 'Issue the `default` token (default true)' }),
});
export type CreateEntityRequest = z.infer<typeof CreateEntityRequest>;

export const CreateEntityResponse = Entity.extend({ defaultToken: TokenWithValue.optional() });
export type CreateEntityResponse = z.infer<typeof CreateEntityResponse>;

export const UpdateEntityRequest = z.strictObject({
  name: Name.optional(),
  tier: TierName.optional(),
});
export type UpdateEntityRequest = z.infer<typeof UpdateEntityRequest>;

/**
 * The create and update bodies with `tier` restricted to the tier table in
 * force (a deployment may configure its own), so validation and the OpenAPI
 * enum both follow it.
 */
export function entityRequestsFor(tierNames: readonly string[]) {
  const tier = z
    .enum(tierNames as [string, ...string[]])
    .meta({ description: 'Tier name, one of the table in force (GET /v1/tiers)' });
  return {
    create: CreateEntityRequest.extend({ tier: tier.optional() }),
    update: UpdateEntityRequest.extend({ tier: tier.optional() }),
  };
}

export const EntityListQuery = PageQuery.extend({
  parentId: Id.optional(),
  search: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .optional()
    .meta({ description: 'Only entities whose name contains this text (case-insensitive)' }),
});
export type EntityListQuery = z.infer<typeof EntityListQuery>;

export const EntityPage = page(Entity);
export type EntityPage = z.infer<typeof EntityPage>;
