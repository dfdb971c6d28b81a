/** PairMap: a value per pair of keys, counted, cleared whole. */
import { describe, expect, it } from 'vitest';
import { PairMap } from '../../platform/server/pair-map.ts';

describe('PairMap', () => {
  it('keeps a value per pair and counts pairs, not first keys', () => {
    const map = new PairMap<string, number, string>();
    expect(map.set('GET', 200, 'a')).toBe('a');
    map.set('GET', 404, 'b');
    map.set('POST', 200, 'c');
    map.set('GET', 200, 'd');
    expect([map.get('GET', 200), map.get('GET', 404), map.get('POST', 200)]).toEqual([
      'd',
      'b',
      'c',
    ]);
    expect(map.get('POST', 404)).toBeUndefined();
    expect(map.get('PUT', 200)).toBeUndefined();
    expect(map.size).toBe(3);
  });

  it('forgets everything on clear', () => {
    const map = new PairMap<string, string, number>();
    map.set('lite', '', 1);
    map.clear();
    expect(map.size).toBe(0);
    expect(map.get('lite', '')).toBeUndefined();
  });
});
