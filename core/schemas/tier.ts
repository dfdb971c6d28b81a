import { z } from 'zod';
import { TierName } from './common.ts';

export const TierInfo = z.object({
  name: TierName,
  rank: z.number().int(),
  tokenQuota: z.number().int().min(0),
});
export type TierInfo = z.infer<typeof TierInfo>;

export const TierList = z.object({ items: z.array(TierInfo) });
export type TierList = z.infer<typeof TierList>;
