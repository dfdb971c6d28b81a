/**
 * Where the OpenAPI document's schemas hold the whole rule, the server takes
 * exactly what they call valid (the schemathesis findings, issue 21), judged
 * by a JSON Schema validator (ajv, 2020-12) on the served document.
 *
 * The leak report (`POST /v1/token-leaks`): every body below gets 200
 * when a JSON Schema validator (ajv, 2020-12, lengths in code points as JSON
 * Schema counts them) finds it valid against the served document, and 400
 * when not — field names no JSON body may hold and nested values in a
 * scanner's extra fields included. Beyond any schema: a report larger than
 * the body limit is refused for its size (413), as schemathesis.toml expects.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isProblem, type Platform, startPlatform } from './helpers.ts';

const item = (fields: string) => `{"token":"tpt_x","type":"t"${fields}}`;
const report = (...items: string[]) => `[${items.join(',')}]`;

/** Bodies as sent (written as text: a `__proto__` key cannot be written as an object literal). */
const BODIES: Record<string, string> = {
  'no item': '[]',
  'the required fields': report('{"token":"a","type":""}'),
  'every field, nulls': report(item(',"url":null,"source":null')),
  'every field, strings': report(item(',"url":"https://gist.example/1","source":"content"')),
  'plain extra fields': report(item(',"extra":"x","count":1.5,"public":true,"none":null')),
  'extra fields named like Object methods': report(item(',"toString":"x","hasOwnProperty":1')),
  'a 512-character token of astral characters': report(
    `{"token":"${'😍'.repeat(512)}","type":"t"}`,
  ),
  '1000 items': report(...Array.from({ length: 1000 }, () => '{"token":"a","type":"t"}')),
  '__proto__ field': report(item(',"__proto__":"x"')),
  'constructor field': report(item(',"constructor":"x"')),
  'prototype field': report(item(',"prototype":1')),
  'constructor.prototype field': report(item(',"constructor":{"prototype":{}}')),
  'an object in an extra field': report(item(',"extra":{"a":1}')),
  'an array in an extra field': report(item(',"extra":[1]')),
  'a 513-character token of astral characters': report(
    `{"token":"${'😍'.repeat(513)}","type":"t"}`,
  ),
  'a 201-character type': report(`{"token":"a","type":"${'t'.repeat(201)}"}`),
  'a 4097-character url': report(item(`,"url":"${'u'.repeat(4097)}"`)),
  'a 201-character source': report(item(`,"source":"${'s'.repeat(201)}"`)),
  'an empty token': report('{"token":"","type":"t"}'),
  'no type': report('{"token":"a"}'),
  'a number as token': report('{"token":1,"type":"t"}'),
  '1001 items': report(...Array.from({ length: 1001 }, () => '{"token":"a","type":"t"}')),
  'an array as item': '[["a","t"]]',
  'an object as report': item(''),
};

describe('the OpenAPI schemas and the server agree', () => {
  let p: Platform;
  // biome-ignore lint/suspicious/noExplicitAny: the served OpenAPI document
  let doc: any;
  let valid: (body: unknown) => boolean;
  const ajv = new Ajv2020({ strict: false });
  beforeAll(async () => {
    p = await startPlatform('sqlite');
    doc = (await p.api.get('/openapi.json')).body;
    const schema = doc.paths['/v1/token-leaks'].post.requestBody.content['application/json'].schema;
    valid = ajv.compile(schema);
  });
  afterAll(async () => {
    await p?.close();
  });

  it('on leak reports', async () => {
    const verdicts: Record<string, string> = {};
    const expected: Record<string, string> = {};
    for (const [what, body] of Object.entries(BODIES)) {
      const res = await p.api.call('POST', '/v1/token-leaks', { rawBody: body });
      verdicts[what] = isProblem(res, 'validation', 400) ? 'refused' : String(res.status);
      expected[what] = valid(JSON.parse(body)) ? '200' : 'refused';
    }
    expect(verdicts).toEqual(expected);
    // Both verdicts occur: the comparison is not vacuous.
    expect(new Set(Object.values(expected))).toEqual(new Set(['200', 'refused']));
  });

  it('a schema-valid leak report larger than the body limit is refused for its size', async () => {
    const body = report(...Array.from({ length: 1000 }, () => item(`,"url":"${'u'.repeat(100)}"`)));
    expect(valid(JSON.parse(body))).toBe(true);
    const res = await p.api.call('POST', '/v1/token-leaks', { rawBody: body });
    expect(isProblem(res, 'payload-too-large', 413)).toBe(true);
  });

  it('on a page limit: 1 to 500 in decimal digits', async () => {
    const parameter = doc.paths['/v1/entities'].get.parameters.find(
      (q: { name: string }) => q.name === 'limit',
    );
    const validLimit = ajv.compile(parameter.schema);
    const limits = ['0', '1', '01', '010', '99', '100', '499', '500', '501', '999', '1000', '5.0'];
    const verdicts: Record<string, string> = {};
    const expected: Record<string, string> = {};
    for (const limit of limits) {
      const res = await p.api.get(`/v1/entities?limit=${limit}`);
      verdicts[limit] = isProblem(res, 'validation', 400) ? 'refused' : String(res.status);
      expected[limit] = validLimit(limit) ? '200' : 'refused';
    }
    expect(verdicts).toEqual(expected);
    expect(expected).toMatchObject({ '0': 'refused', '1': '200', '500': '200', '501': 'refused' });
  });

  it('on names: hidden and blank characters, astral ones included', async () => {
    const names = {
      plain: 'Acme',
      emoji: '\u2764\uFE0F shop',
      'ZWJ family': '\u{1F468}\u200D\u{1F469}\u200D\u{1F467}',
      'Mongolian with its selector': '\u1820\u180B',
      'tag character': 'tag\u{E0041}',
      'astral noncharacter': 'x\u{1FFFE}',
      'musical format control': 'a\u{1D173}',
      'Hangul filler': '\u3164',
      'Braille blank': '\u2800',
      'a Thai vowel sign alone': '\u0E31',
      'a supplementary variation selector alone': '\u{E0100}',
      'joiners alone': '\u200D\u200C',
    };
    const body = doc.paths['/v1/entities'].post.requestBody.content['application/json'].schema;
    const validName = ajv.compile(body.properties.name);
    const verdicts: Record<string, string> = {};
    const expected: Record<string, string> = {};
    for (const [what, name] of Object.entries(names)) {
      const res = await p.api.post('/v1/entities', { name, kind: 'customer', defaultToken: false });
      verdicts[what] = isProblem(res, 'validation', 400) ? 'refused' : String(res.status);
      expected[what] = validName(name) ? '201' : 'refused';
    }
    expect(verdicts).toEqual(expected);
    expect(expected).toMatchObject({ plain: '201', 'tag character': 'refused' });
  });
});
