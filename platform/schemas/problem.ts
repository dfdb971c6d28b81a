import { z } from 'zod';

/** RFC 9457 problem details, with tokenplane's extension members. */
export const Problem = z.looseObject({
  type: z.string(),
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
});
export type Problem = z.infer<typeof Problem>;
