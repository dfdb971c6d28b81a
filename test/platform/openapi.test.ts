/**
 * The OpenAPI document tells the truth (issue 13.2): problems are declared as
 * application/problem+json, DELETE declares its 204, names refuse blanks in
 * the schema, tiers are the enum of the table in force, cursors have their
 * shape, a method a path does not answer gets 405 with `Allow`, and a token
 * write's schema says what the server takes (scopes, origins, the publishable
 * rule), so that schemathesis' valid-data check runs on token writes too.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCOPES } from '../../core/domain/permissions.ts';
import { isProblem, type Platform, startPlatform } from './helpers.ts';

type Operation = {
  security?: unknown[];
  responses: Record<string, { content?: Record<string, unknown> }>;
  parameters?: { name: string; in: string; schema: { pattern?: string } }[];
  requestBody?: {
    content: Record<string, { schema: { properties: Record<string, Schema>; if?: unknown } }>;
  };
};
type Schema = {
  type?: string;
  enum?: string[];
  allOf?: { pattern: string }[];
  pattern?: string;
  items?: Schema;
};

/** A request with any method (fetch refuses TRACE). */
function raw(
  url: string,
  method: string,
): Promise<{ status: number; allow: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method }, (res) => {
      let body = '';
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, allow: String(res.headers.allow ?? ''), body }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the OpenAPI document matches the server', () => {
  let p: Platform;
  let paths: Record<string, Record<string, Operation>>;
  beforeAll(async () => {
    p = await startPlatform('sqlite', {
      tiers: [
        { name: 'bronze', rank: 0, tokenQuota: 1 },
        { name: 'silver', rank: 1, tokenQuota: 3 },
        { name: 'gold', rank: 2, tokenQuota: 10 },
      ],
    });
    paths = (await p.api.get('/openapi.json', { key: null })).body.paths;
  });
  afterAll(async () => {
    await p?.close();
  });

  it('declares every problem as application/problem+json, as served', async () => {
    let checked = 0;
    for (const [path, operations] of Object.entries(paths)) {
      for (const [method, op] of Object.entries(operations)) {
        if (!op.security) continue;
        const problem = op.responses['4XX'];
        expect(problem, `${method} ${path}`).toBeDefined();
        expect(Object.keys(problem?.content ?? {}), `${method} ${path}`).toEqual([
          'application/problem+json',
        ]);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(19);
    const served = await p.api.get('/v1/entities', { key: null });
    expect(served.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('lists every problem slug with its status, the token value refusals included', () => {
    const problem = paths['/v1/tokens/{id}/rotate']?.post?.responses['4XX']?.content?.[
      'application/problem+json'
    ] as { schema: { properties: Record<string, { description?: string }> } };
    const slugs = problem.schema.properties.type?.description ?? '';
    for (const slug of ['validation (400)', 'token-exposed (409)', 'grace-limit (409)']) {
      expect(slugs).toContain(slug);
    }
    expect(problem.schema.properties.tokenId).toBeDefined();
  });

  it('declares the 204 of every DELETE', () => {
    const deletes = Object.entries(paths).filter(([, ops]) => ops.delete);
    expect(deletes.length).toBeGreaterThanOrEqual(4);
    for (const [path, ops] of deletes) {
      expect(Object.keys(ops.delete?.responses ?? {}), path).toContain('204');
    }
  });

  it('tiers are the enum of the table in force; names refuse blanks; cursors have a shape', async () => {
    for (const method of ['post', 'patch']) {
      const path = method === 'post' ? '/v1/entities' : '/v1/entities/{id}';
      const body = paths[path]?.[method]?.requestBody?.content['application/json']?.schema;
      expect(body?.properties.tier?.enum).toEqual(['bronze', 'silver', 'gold']);
      const patterns = (body?.properties.name?.allOf ?? []).map((x) => x.pattern);
      // a visible character: not only spaces, joiners, combining marks or variation selectors
      // (read as JSON Schema reads patterns: by code point, the `u` flag)
      const visible = patterns.find((x) => x.startsWith('[^\\s'));
      expect(
        visible &&
          [' ', '\u0301', '\uFE0F', '\u{E0100}'].every((c) => !new RegExp(visible, 'u').test(c)),
      ).toBe(true);
    }
    // and the server refuses what the schema refuses
    const blank = await p.api.post('/v1/entities', { name: '   ', kind: 'customer' });
    expect(isProblem(blank, 'validation', 400)).toBe(true);
    const lite = await p.api.post('/v1/entities', { name: 'x', kind: 'customer', tier: 'lite' });
    expect(isProblem(lite, 'validation', 400)).toBe(true);
    const cursor = paths['/v1/entities']?.get?.parameters?.find((x) => x.name === 'cursor');
    expect(cursor?.schema.pattern).toBe('^(?:[0-9a-f]{32})?$');
    // any value of that shape is a position, never an error
    const any = await p.api.get(`/v1/entities?cursor=${'f'.repeat(32)}`);
    expect(any.status).toBe(200);
    expect(any.body.items).toEqual([]);
  });

  it('token writes: scopes are the enum of the rules module, origins a pattern the server keeps', async () => {
    const create =
      paths['/v1/entities/{id}/tokens']?.post?.requestBody?.content['application/json'];
    const patch = paths['/v1/tokens/{id}']?.patch?.requestBody?.content['application/json'];
    for (const body of [create?.schema, patch?.schema]) {
      expect(body?.properties.scopes?.items?.enum).toEqual([...SCOPES]);
      const origin = new RegExp(body?.properties.allowedOrigins?.items?.pattern ?? '^$');
      for (const ok of [
        'https://a.example.com:8443',
        'https://*.example.com',
        'https://localhost',
      ]) {
        expect(origin.test(ok), ok).toBe(true);
      }
      for (const bad of [
        'https://*.example.com:443',
        'https://*.com',
        'https://a.example.com:99999',
      ]) {
        expect(origin.test(bad), bad).toBe(false);
      }
    }
    // a publishable token names an origin and does not sign: said as if/then
    expect(create?.schema.if).toMatchObject({ required: ['type'] });
    const e = await p.api.post('/v1/entities', { name: 'w', kind: 'customer', tier: 'silver' });
    const refused = await p.api.post(`/v1/entities/${e.body.id}/tokens`, {
      name: 'x',
      allowedOrigins: ['https://*.example.com:443'],
    });
    expect(isProblem(refused, 'validation', 400)).toBe(true);
    expect(refused.body.errors).toEqual([
      { path: 'allowedOrigins.0', message: 'a wildcard origin takes no port' },
    ]);
  });

  it('a method the path does not answer gets 405 with Allow, as a problem', async () => {
    const trace = await raw(`${p.server.url}/v1/entities`, 'TRACE');
    expect(trace.status).toBe(405);
    expect(trace.allow).toBe('GET, HEAD, POST');
    expect(JSON.parse(trace.body).type).toMatch(/\/method-not-allowed$/);
    const put = await p.api.call('PUT', '/v1/tokens/anything');
    expect(isProblem(put, 'method-not-allowed', 405)).toBe(true);
    expect(put.headers.get('allow')).toBe('DELETE, GET, HEAD, PATCH');
    expect(isProblem(await p.api.get('/v1/nothing'), 'not-found', 404)).toBe(true);
    // a method with a body that no route takes is still 405, not a body error
    const query = await raw(`${p.server.url}/v1/tiers`, 'QUERY');
    expect(query.status).toBe(405);
    expect(query.allow).toBe('GET, HEAD');
  });

  it('a body the schema refuses is refused: JSON null, a PATCH without one', async () => {
    const e = await p.api.post('/v1/entities', { name: 'Bodies', kind: 'customer' });
    const t = e.body.defaultToken.id;
    const nul = await p.api.call('POST', `/v1/tokens/${t}/reveal`, { rawBody: 'null' });
    expect(isProblem(nul, 'validation', 400)).toBe(true);
    const none = await p.api.call('PATCH', `/v1/entities/${e.body.id}`);
    expect(isProblem(none, 'validation', 400)).toBe(true);
    // a blank JSON body is none (schemathesis sent "\n" and got 200)
    const blank = await p.api.call('PATCH', `/v1/tokens/${t}`, { rawBody: '\n' });
    expect(isProblem(blank, 'validation', 400), blank.text).toBe(true);
    expect((await p.api.call('POST', `/v1/tokens/${t}/reveal`, { rawBody: ' ' })).status).toBe(200);
    // an absent body on reveal and rotate is still fine
    expect((await p.api.call('POST', `/v1/tokens/${t}/reveal`)).status).toBe(200);
  });
});
