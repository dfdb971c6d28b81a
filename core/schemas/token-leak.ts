/**
 * Leak reports (README "Lifecycle events, leak response, revocation across servers") in the shape of GitHub's secret-scanning partner
 * alerts: a list of found values in, a labelled list of their hashes out.
 */
import { z } from 'zod';

/**
 * Field names a JSON body may not hold anywhere (they could change a
 * prototype; the body parser refuses them too): said in the schema, so that
 * it promises nothing the server refuses.
 */
const RESERVED_NAMES = ['__proto__', 'constructor', 'prototype'];

/** A field a scanner adds beyond the four (kept out of everything): a plain value. */
const ExtraField = z.union([z.string(), z.number(), z.boolean(), z.null()]);

const LeakItem = z
  .object({
    token: z.string().min(1).max(512).meta({ description: 'The value that was found' }),
    type: z.string().max(200).meta({ description: 'The scanner’s name for the pattern' }),
    url: z.string().max(4096).nullable().optional().meta({ description: 'Where it was found' }),
    source: z.string().max(200).nullable().optional().meta({ description: 'e.g. content, commit' }),
  })
  .catchall(ExtraField)
  .superRefine((item, ctx) => {
    for (const name of RESERVED_NAMES.filter((n) => Object.hasOwn(item, n))) {
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message: `unknown field (no field is named ${name})`,
      });
    }
  })
  .meta({
    description:
      'One value found. Other fields a scanner adds are ignored; they hold plain values (string, number, boolean or null)',
    propertyNames: { not: { enum: RESERVED_NAMES } },
  });

export const TokenLeakReport = z.array(LeakItem).max(1000);
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
