import { z } from 'zod';
import { Timestamp } from './common.ts';

export const MetricInfo = z.object({ name: z.string(), tier: z.string() });
export const MetricCatalog = z.object({ tier: z.string(), metrics: z.array(MetricInfo) });
export type MetricCatalog = z.infer<typeof MetricCatalog>;

export const MetricParams = z.strictObject({ name: z.string().regex(/^[a-z0-9_.-]{1,64}$/) });
export const MetricQuery = z.strictObject({ from: Timestamp.optional(), to: Timestamp.optional() });
export const MetricSeries = z.object({
  name: z.string(),
  points: z.array(z.object({ t: Timestamp, v: z.number() })),
});
export type MetricSeries = z.infer<typeof MetricSeries>;
