import { z } from 'zod';
import { BLANK, REFUSED } from './name-characters.generated.ts';

export const Id = z.uuid().meta({ description: 'Object id (UUID)' });
export const Timestamp = z.iso
  .datetime({ offset: true })
  .meta({ description: 'RFC 3339 timestamp' });
/** A name holds no refused character (name-characters.ts). */
const NO_HIDDEN = new RegExp(`^[^${REFUSED}]*$`, 'u');
/** A name holds a character that draws something: not white space, a mark, a selector or a joiner. */
const VISIBLE = new RegExp(`[^\\s${BLANK}]`, 'u');
const REFUSED_CHAR = new RegExp(`[${REFUSED}]`, 'u');

const hex = (codePoint: number) => codePoint.toString(16).toUpperCase().padStart(4, '0');

/** The first refused character of `text` and its position, counted in characters (code points). */
function hiddenCharMessage(input: unknown): string {
  const text = typeof input === 'string' ? input : '';
  let position = 0;
  for (const char of text) {
    position += 1;
    if (REFUSED_CHAR.test(char)) {
      return (
        `must not contain control, bidirectional-control, invisible or blank characters ` +
        `(found U+${hex(char.codePointAt(0) ?? 0)} at position ${position}); remove it`
      );
    }
  }
  return 'must not contain control, bidirectional-control, invisible or blank characters; remove them';
}

function blankMessage(input: unknown): string {
  const text = typeof input === 'string' ? input : '';
  if (text.trim() === '') return 'must not be empty or blank';
  const first = text.codePointAt(0) ?? 0;
  return `must contain a visible character, not only combining marks or variation selectors (U+${hex(first)} at position 1)`;
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
  .regex(NO_HIDDEN, { error: (issue) => hiddenCharMessage(issue.input) })
  .normalize('NFC')
  .trim()
  .regex(VISIBLE, { error: (issue) => blankMessage(issue.input) })
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
  // Decimal digits only: a coerced number also read `0x10` as 16 and `1e2` as 100.
  // The pattern is the whole rule (1 to 500), so the OpenAPI document says it too.
  limit: z
    .string()
    .regex(
      /^0*(?:[1-9][0-9]?|[1-4][0-9]{2}|500)$/,
      'must be a whole number from 1 to 500, in decimal digits',
    )
    .transform(Number)
    .default(100),
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
 * Ids are opaque to clients (README "Platform API"): a path id of any shape is accepted, and
 * one that names no object answers 404 not-found, never 400.
 */
export const PathId = z.string().meta({ description: 'Object id, as returned by the API' });

export const IdParams = z.strictObject({ id: PathId });
