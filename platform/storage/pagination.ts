/**
 * Keyset pagination: pages ordered by id, continued from an opaque cursor.
 * Any value of the cursor's documented shape (32 hex digits) is a position in
 * the id order, so the schema refuses exactly what the server cannot use.
 */

export type PageRequest = { limit: number; cursor?: string | undefined };
export type Page<T> = { items: T[]; nextCursor: string | null };

/** Cursors are opaque to clients: the last id returned, as 32 hex digits. */
export function encodeCursor(id: string): string {
  return id.replaceAll('-', '');
}

/** The id to continue after ('' for the first page); the schema has checked the shape. */
export function decodeCursor(cursor: string | undefined): string {
  if (cursor === undefined || cursor === '') return '';
  const h = cursor;
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Queries fetch `limit + 1` rows: the extra one only tells whether a next page exists. */
export function paginate<T extends { id: string }>(rows: T[], limit: number): Page<T> {
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  const last = items[items.length - 1];
  return { items, nextCursor: more && last ? encodeCursor(last.id) : null };
}
