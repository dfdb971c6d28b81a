import { z } from 'zod';

export const Id = z.uuid().meta({ description: 'Object id (UUID)' });
export const Timestamp = z.iso
  .datetime({ offset: true })
  .meta({ description: 'RFC 3339 timestamp' });
export const Name = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .meta({ description: 'Human-readable name' });

/** Tier names come from the (configurable) tier table, so the schema checks only the shape. */
export const TierName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,31}$/, 'must be a tier name such as "lite" or "advanced"')
  .meta({ description: 'Tier name, e.g. `lite` or `advanced` (see GET /v1/tiers)' });

export const PageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().max(200).optional(),
});
export type PageQuery = z.infer<typeof PageQuery>;

export function page<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    nextCursor: z
      .string()
      .nullable()
      .meta({ description: 'Pass as `cursor` for the next page; null at the end' }),
  });
}

/**
 * Ids are opaque to clients (SPEC §2): a path id of any shape is accepted, and
 * one that names no object answers 404 not-found, never 400.
 */
export const PathId = z.string().meta({ description: 'Object id, as returned by the API' });

export const IdParams = z.strictObject({ id: PathId });
