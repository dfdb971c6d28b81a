// Names: the characters refused or counted as blank are the Unicode properties
// of core/schemas/name-characters.ts, written out for JSON Schema tools.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Name } from '../../core/schemas/common.ts';
import { GENERATED_FILE, renderNameCharacters } from '../../core/schemas/name-characters.ts';

/** The first problem's message, or the stored name. */
function judge(name: string): string {
  const parsed = Name.safeParse(name);
  return parsed.success ? `ok ${parsed.data}` : (parsed.error.issues[0]?.message ?? '');
}

describe('name characters', () => {
  it('name-characters.generated.ts is what the properties give (run `npm run name-characters` after a Node upgrade)', () => {
    expect(readFileSync(GENERATED_FILE, 'utf8')).toBe(renderNameCharacters());
  });

  it.each([
    ['Hangul filler', '\u3164', 'U+3164 at position 1'],
    ['halfwidth Hangul filler', 'a\uFFA0', 'U+FFA0 at position 2'],
    ['Braille blank', '\u2800', 'U+2800 at position 1'],
    ['soft hyphen', 'soft\u00ADhyphen', 'U+00AD at position 5'],
    ['tag character', 'tag\u{E0041}', 'U+E0041 at position 4'],
    ['language tag', '\u{E0001}x', 'U+E0001 at position 1'],
    ['unassigned default-ignorable', 'x\u{E0080}', 'U+E0080 at position 2'],
    ['invisible function application', 'a\u2061b', 'U+2061 at position 2'],
    ['combining grapheme joiner', 'a\u034Fb', 'U+034F at position 2'],
    ['Khmer inherent vowel', '\u17B4', 'U+17B4 at position 1'],
    ['interlinear annotation', 'a\uFFF9', 'U+FFF9 at position 2'],
    ['line separator', 'a\u2028b', 'U+2028 at position 2'],
    ['paragraph separator', 'a\u2029b', 'U+2029 at position 2'],
    ['BMP noncharacter', '\uFDD0', 'U+FDD0 at position 1'],
    ['astral noncharacter', 'x\u{1FFFE}', 'U+1FFFE at position 2'],
    ['musical format control', 'a\u{1D173}', 'U+1D173 at position 2'],
    ['Mongolian vowel separator', 'a\u180Eb', 'U+180E at position 2'],
    ['combining marks alone', '\u0301\u0302', 'visible character'],
    ['a Thai vowel sign alone', '\u0E31', 'visible character'],
    ['a spacing mark alone', '\u093E', 'visible character'],
    ['a variation selector alone', '\uFE0F', 'visible character'],
    ['a supplementary variation selector alone', '\u{E0100}', 'visible character'],
    ['joiners alone', '\u200D\u200C', 'visible character'],
  ])('refuses %s', (_, name, message) => {
    expect(judge(name)).toContain(message);
  });

  it.each([
    ['an emoji with its variation selector', '\u2764\uFE0F shop'],
    ['an emoji family joined by ZWJ', '\u{1F468}\u200D\u{1F469}\u200D\u{1F467}'],
    ['a Persian word with ZWNJ', '\u0634\u0631\u06a9\u062a\u200c\u0647\u0627'],
    ['a Mongolian letter with its free variation selector', '\u1820\u180B'],
    ['a skin-tone modifier', '\u{1F44D}\u{1F3FD}'],
    ['a base letter with combining marks', 'e\u0301\u0302'],
    ['ideographic space inside', 'a\u3000b'],
  ])('keeps %s', (_, name) => {
    expect(judge(name)).toBe(`ok ${name.normalize('NFC')}`);
  });
});
