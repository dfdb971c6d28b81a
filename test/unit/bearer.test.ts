/**
 * The Authorization header's credential: the usual `Bearer <value>` is read
 * without a regular expression's match, and every form is read as BEARER
 * reads it.
 */
import { describe, expect, it } from 'vitest';
import { BEARER, bearer } from '../../platform/server/auth.ts';

const value = `tpt_${'a'.repeat(40)}`;
const forms = [
  `Bearer ${value}`,
  `bearer ${value}`,
  `BEARER ${value}`,
  `Bearer   ${value}`,
  `Bearer ${value}  `,
  `Bearer ${value}\t`,
  `Bearer ${value} other`,
  `Bearer\t${value}`,
  `Bearer ${'x'.repeat(512)}`,
  `Bearer ${'x'.repeat(513)}`,
  'Bearer ',
  'Bearer',
  `Basic ${value}`,
  ` Bearer ${value}`,
  `Bearer ${value}\n`,
  `Bearer ${value}\u00a0`,
  `Bearer \u00a0${value}`,
  `Bearer tpt_é${value}`,
];

describe('bearer', () => {
  it.each(forms)('reads %j as the regular expression does', (header) => {
    expect(bearer(header)).toBe(BEARER.exec(header)?.[1] ?? null);
  });

  it('reads the usual form and refuses none', () => {
    expect(bearer(`Bearer ${value}`)).toBe(value);
    expect(bearer(undefined)).toBeNull();
    expect(bearer('')).toBeNull();
  });
});
