/**
 * Leak reports (SPEC §8) in the shape of GitHub's secret-scanning partner
 * alerts: a list of found values in, a labelled list of their hashes out.
 */
import { z } from 'zod';

export const TokenLeakReport = z
  .array(
    z.looseObject({
      token: z.string().min(1).max(512).meta({ description: 'The value that was found' }),
      type: z.string().max(200).meta({ description: 'The scanner’s name for the pattern' }),
      url: z.string().max(4096).nullable().optional().meta({ description: 'Where it was found' }),
      source: z
        .string()
        .max(200)
        .nullable()
        .optional()
        .meta({ description: 'e.g. content, commit' }),
    }),
  )
  .max(1000);
export type TokenLeakReport = z.infer<typeof TokenLeakReport>;

export const TokenLeakLabels = z.array(
  z.object({
    token_hash: z.string().meta({ description: 'Hex SHA-256 of the reported value' }),
    token_type: z.string(),
    label: z.enum(['true_positive', 'false_positive']),
  }),
);
export type TokenLeakLabels = z.infer<typeof TokenLeakLabels>;

/** The keys document a leak reporter publishes (GitHub: /meta/public_keys/secret_scanning). */
export const LeakReportKeys = z.looseObject({
  public_keys: z.array(
    z.looseObject({
      key_identifier: z.string().min(1),
      key: z.string().min(1).meta({ description: 'PEM (SPKI) public key' }),
    }),
  ),
});
