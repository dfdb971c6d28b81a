import { z } from 'zod';

export const Id = z.uuid().meta({ description: 'Object id (UUID)' });
export const Timestamp = z.iso
  .datetime({ offset: true })
  .meta({ description: 'RFC 3339 timestamp' });
/**
 * Characters a name may not hold, because they hide or disguise text: C0/C1
 * controls (NUL, newline, escape…), the bidirectional controls (U+202E
 * RIGHT-TO-LEFT OVERRIDE and kin, the isolates, LRM/RLM/ALM) and the invisible
 * zero-width characters (U+200B, U+2060, U+FEFF, U+180E). The joiners U+200C and
 * U+200D stay allowed: emoji sequences and Persian or Indic words need them.
 */
const HIDDEN =
  '\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u180e\\u200b\\u200e\\u200f\\u202a-\\u202e\\u2060\\u2066-\\u2069\\ufeff';
const HIDDEN_CHAR = new RegExp(`[${HIDDEN}]`);

function hiddenCharMessage(input: unknown): string {
  const text = String(input);
  const found = HIDDEN_CHAR.exec(text);
  const code = found?.[0].codePointAt(0)?.toString(16).toUpperCase().padStart(4, '0');
  return (
    `must not contain control, bidirectional-control or invisible characters ` +
    `(found U+${code} at position ${(found?.index ?? 0) + 1}); remove it`
  );
}

/**
 * A name as clients send it: visible text (any script, emoji), at most 200
 * characters, stored trimmed and NFC-normalised so that equal-looking names
 * are equal strings. Every check is also in the JSON schema (patterns), so the
 * OpenAPI document refuses exactly what the server refuses.
 */
export const Name = z
  .string()
  .max(200, 'must be at most 200 characters')
  .regex(new RegExp(`^[^${HIDDEN}]*$`), { error: (issue) => hiddenCharMessage(issue.input) })
  .normalize('NFC')
  .trim()
  .regex(/\S/, 'must not be empty or blank')
  .meta({ description: 'Human-readable name (visible characters; trimmed, NFC)' });

/** A name in an answer: what was stored (older rows may predate today's input rules). */
export const StoredName = z.string().meta({ description: 'Human-readable name' });

/**
 * Go-style durations (`720h`, `90m`, `1h30m`, `45s`): the form CEL's duration()
 * and `kubectl` users know, so the operator's CRD and the provider's inputs
 * accept the same strings.
 */
export const Duration = z
  .string()
  .max(32)
  .regex(/^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$/, 'must be a duration such as 720h, 90m, 1h30m or 45s');

/** Tier names come from the (configurable) tier table, so the schema checks only the shape. */
export const TierName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,31}$/, 'must be a tier name such as "lite" or "advanced"')
  .meta({ description: 'Tier name, e.g. `lite` or `advanced` (see GET /v1/tiers)' });

export const PageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z
    .string()
    .regex(/^(?:[0-9a-f]{32})?$/, 'not a cursor returned by this API')
    .optional()
    .meta({ description: 'Opaque: the `nextCursor` of the previous page (32 hex digits)' }),
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
