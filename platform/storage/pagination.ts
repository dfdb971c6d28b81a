/** Keyset pagination: pages ordered by id, continued from an opaque cursor. */
import { validationProblem } from '../domain/problems.ts';

export type PageRequest = { limit: number; cursor?: string | undefined };
export type Page<T> = { items: T[]; nextCursor: string | null };

/** Cursors are opaque to clients: base64url of the last id returned. */
export function encodeCursor(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url');
}

/** The id to continue after ('' for the first page); rejects anything we did not issue. */
export function decodeCursor(cursor: string | undefined): string {
  if (cursor === undefined || cursor === '') return '';
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^[0-9a-f-]{36}$/.test(id)) {
    throw validationProblem([{ path: 'cursor', message: 'not a cursor returned by this API' }]);
  }
  return id;
}

/** Queries fetch `limit + 1` rows: the extra one only tells whether a next page exists. */
export function paginate<T extends { id: string }>(rows: T[], limit: number): Page<T> {
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  const last = items[items.length - 1];
  return { items, nextCursor: more && last ? encodeCursor(last.id) : null };
}
