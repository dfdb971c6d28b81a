// The JSON body parser's refusals that no schema could make (platform/server/json-body.ts).
import { describe, expect, it } from 'vitest';
import { ProblemError } from '../../core/domain/problems.ts';
import { parseJsonBody } from '../../platform/server/json-body.ts';

/** The parser's verdict on `text`: the value, or the refusal's slug and first error. */
function parse(text: string): unknown {
  try {
    return { value: parseJsonBody('application/json', Buffer.from(text, 'utf8')) };
  } catch (error) {
    if (!(error instanceof ProblemError)) throw error;
    return { slug: error.slug, error: (error.extensions.errors as unknown[])[0] };
  }
}

describe('JSON body parser', () => {
  it.each([
    [
      'in a value, counted by code point',
      String.raw`{"name":"😀\ud800"}`,
      'name',
      'U+D800 at position 2',
    ],
    ['deep inside', String.raw`{"a":{"b":["x\udfff"]}}`, 'a.b.0', 'U+DFFF at position 2'],
    ['in a key', String.raw`{"\udc00":1}`, '\udc00', 'U+DC00 at position 1'],
  ])('refuses a lone surrogate %s, naming where', (_, text, path, where) => {
    expect(parse(text)).toEqual({
      slug: 'validation',
      error: {
        path,
        message: `holds a lone surrogate (${where}), which is not Unicode text`,
      },
    });
  });

  it('takes a surrogate pair written as escapes', () => {
    expect(parse(String.raw`{"name":"\ud83d\ude00"}`)).toEqual({ value: { name: '😀' } });
  });
});
