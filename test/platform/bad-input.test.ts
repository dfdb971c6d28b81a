/**
 * What the second adversarial round sent (issue 21), over real HTTP on both
 * databases: every one answers a problem that says what is wrong, nothing is
 * stored, and nothing secret is echoed or logged.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loggedPath } from '../../platform/server/request-log.ts';
import { ENGINES, isProblem, type Platform, startPlatform } from './helpers.ts';

/** Raw bytes on a socket, for what fetch will not send; resolves with the whole answer. */
function rawHttp(port: number, bytes: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    let answer = '';
    socket.on('data', (chunk) => {
      answer += chunk.toString('utf8');
    });
    socket.on('end', () => resolve(answer));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe.each(ENGINES)('bad input on %s', (engine) => {
  let p: Platform;
  let entityId: string;
  let tokenId: string;
  beforeAll(async () => {
    p = await startPlatform(engine, { requestTimeoutMs: 1_000 });
    const e = await p.api.post('/v1/entities', {
      name: 'Bad input',
      kind: 'customer',
      tier: 'advanced',
    });
    entityId = e.body.id;
    tokenId = e.body.defaultToken.id;
  });
  afterAll(() => p?.close());

  it('a deeply nested array answers 400 at any depth, on create and on PATCH, and stores nothing', async () => {
    for (const depth of [40, 3_000, 5_000, 30_000]) {
      const body = `{"name":"a","scopes":${nested(depth)}}`;
      const created = await p.api.call('POST', `/v1/entities/${entityId}/tokens`, {
        rawBody: body,
      });
      expect(isProblem(created, 'validation', 400), `${depth}: ${created.text.slice(0, 200)}`).toBe(
        true,
      );
      const patched = await p.api.call('PATCH', `/v1/tokens/${tokenId}`, {
        rawBody: `{"scopes":${nested(depth)}}`,
      });
      expect(isProblem(patched, 'validation', 400), `${depth}`).toBe(true);
    }
    expect((await p.api.get(`/v1/entities/${entityId}`)).body.tokenCount).toBe(1);
  });

  it('every JSON body route refuses deep nesting with 400 before its schema runs', async () => {
    const routes = [
      ['POST', '/v1/entities'],
      ['PATCH', `/v1/entities/${entityId}`],
      ['POST', `/v1/entities/${entityId}/access-keys`],
      ['POST', `/v1/entities/${entityId}/webhooks`],
      ['POST', `/v1/tokens/${tokenId}/rotate`],
      ['POST', `/v1/tokens/${tokenId}/reveal`],
      ['POST', '/v1/introspect'],
      ['POST', '/v1/token-leaks'],
    ];
    for (const [method, path] of routes) {
      const r = await p.api.call(method, path, { rawBody: `{"name":${nested(5_000)}}` });
      expect(isProblem(r, 'validation', 400), `${method} ${path}: ${r.text.slice(0, 200)}`).toBe(
        true,
      );
      expect(r.body.detail).toContain('nested more than 32 levels');
    }
  });

  it('__proto__ and constructor keys are refused as unknown fields, naming where', async () => {
    for (const [body, path] of [
      ['{"name":"a","__proto__":{"admin":true}}', '__proto__'],
      ['{"name":"a","constructor":{"prototype":{}}}', 'constructor'],
      ['{"name":"a","rateLimit":{"__proto__":{}}}', 'rateLimit.__proto__'],
    ] as const) {
      const r = await p.api.call('POST', `/v1/entities/${entityId}/tokens`, { rawBody: body });
      expect(isProblem(r, 'validation', 400), r.text).toBe(true);
      expect(r.body.errors[0]).toEqual({ path, message: 'unknown field' });
    }
  });

  it('text/plain and other charsets get 415 saying what to send; bytes that are not UTF-8 get 400', async () => {
    const plain = await p.api.call('POST', `/v1/entities/${entityId}/tokens`, {
      rawBody: '{"name":"a"}',
      headers: { 'content-type': 'text/plain' },
    });
    expect(isProblem(plain, 'unsupported-media-type', 415), plain.text).toBe(true);
    expect(plain.body.detail).toContain('application/json');
    const utf16 = await p.api.call('POST', `/v1/entities/${entityId}/tokens`, {
      rawBody: '{"name":"a"}',
      headers: { 'content-type': 'application/json; charset=utf-16' },
    });
    expect(isProblem(utf16, 'unsupported-media-type', 415), utf16.text).toBe(true);
    expect(utf16.body.detail).toContain('utf-16');
    const res = await fetch(`${p.api.url}/v1/entities/${entityId}/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${p.api.defaultKey}`, 'content-type': 'application/json' },
      body: Buffer.from([
        0x7b, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d,
      ]),
    });
    const invalid = (await res.json()) as { detail: string };
    expect(res.status).toBe(400);
    expect(invalid.detail).toContain('not valid UTF-8');
  });

  it('names that look blank or hide text are refused with the code point and its position', async () => {
    const refused: [string, string][] = [
      ['\u3164', 'U+3164'],
      ['a\uFFA0', 'U+FFA0'],
      ['\u2800', 'U+2800'],
      ['\uFE0F', 'U+FE0F'],
      ['\u0301\u0302', 'U+0301'],
      ['soft\u00ADhyphen', 'U+00AD'],
      ['tag\u{E0041}', 'U+E0041'],
      ['a\u2061b', 'U+2061'],
      ['a\u034Fb', 'U+034F'],
      ['\u17B4', 'U+17B4'],
      ['a\uFFF9', 'U+FFF9'],
      ['a\u2028b', 'U+2028'],
      ['\uFDD0', 'U+FDD0'],
      ['lone\uD800', 'U+D800'],
      ['x\u{1FFFE}', 'U+1FFFE'],
      ['a\u{1D173}', 'U+1D173'],
      ['x\u{E0080}', 'U+E0080'],
      ['\u0E31', 'U+0E31'],
      ['\u093E', 'U+093E'],
      ['\u{E0100}', 'U+E0100'],
    ];
    for (const [name, code] of refused) {
      const r = await p.api.post(`/v1/entities/${entityId}/tokens`, { name });
      expect(isProblem(r, 'validation', 400), `${JSON.stringify(name)} → ${r.text}`).toBe(true);
      expect(r.body.errors[0].path).toBe('name');
      expect(r.body.errors[0].message).toContain(code);
    }
    // Emoji with their variation selector stay allowed.
    const heart = await p.api.post(`/v1/entities`, {
      name: '\u2764\uFE0F shop',
      kind: 'customer',
      tier: 'lite',
      defaultToken: false,
    });
    expect(heart.status, heart.text).toBe(201);
  });

  it('?limit takes decimal digits only; If-Match is * alone or entity tags', async () => {
    for (const limit of ['0x10', '1e2', ' 5', '5.0', '-1']) {
      const r = await p.api.get(`/v1/entities?limit=${encodeURIComponent(limit)}`);
      expect(isProblem(r, 'validation', 400), `${limit}: ${r.text}`).toBe(true);
    }
    expect((await p.api.get('/v1/entities?limit=16')).status).toBe(200);
    const mixed = await p.api.call('PATCH', `/v1/tokens/${tokenId}`, {
      body: { name: 'x' },
      headers: { 'if-match': '"x", *' },
    });
    expect(isProblem(mixed, 'validation', 400), mixed.text).toBe(true);
    const star = await p.api.call('PATCH', `/v1/tokens/${tokenId}`, {
      body: { name: 'x' },
      headers: { 'if-match': '*' },
    });
    expect(star.status).toBe(200);
  });

  it('an HTTP/1.1 request without Host gets a problem, not plain text', async () => {
    const answer = await rawHttp(
      p.server.port,
      'GET /v1/tiers HTTP/1.1\r\nConnection: close\r\n\r\n',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    expect(answer).toContain('application/problem+json');
    expect(answer).toContain('needs a Host header');
  });

  it('slow clients are cut off: unfinished headers, and a body shorter than its Content-Length', async () => {
    const headers = await rawHttp(p.server.port, 'GET /v1/tiers HTTP/1.1\r\nHost: x\r\n');
    expect(headers).toMatch(/^HTTP\/1\.1 408/);
    const body = await rawHttp(
      p.server.port,
      `POST /v1/entities HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${p.api.defaultKey}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name":`,
    );
    expect(body).toMatch(/^HTTP\/1\.1 408/);
    expect(body).toContain('application/problem+json');
  });

  it('a secret sent as X-Request-Id is neither echoed nor stored; a plain one is', async () => {
    const value = (await p.api.post(`/v1/tokens/${tokenId}/rotate`, {})).body.value as string;
    const r = await p.api.get(`/v1/entities/${entityId}`, { headers: { 'x-request-id': value } });
    expect(r.headers.get('x-request-id')).not.toBe(value);
    const plain = await p.api.get(`/v1/entities/${entityId}`, {
      headers: { 'x-request-id': 'trace-42' },
    });
    expect(plain.headers.get('x-request-id')).toBe('trace-42');
    await p.api.patch(
      `/v1/tokens/${tokenId}`,
      { name: 'renamed' },
      { headers: { 'x-request-id': value } },
    );
    const audit = await p.api.get(`/v1/audit-events?entityId=${entityId}`);
    expect(JSON.stringify(audit.body)).not.toContain(value);
  });
});

describe('logged paths', () => {
  it('decode percent-encoding and redact what is not an id or a short word', () => {
    const token = `tpt_${'A'.repeat(36)}`;
    const encoded = [...token].map((c) => `%${c.charCodeAt(0).toString(16)}`).join('');
    expect(loggedPath(`/v1/entities/${encoded}`)).toBe('/v1/entities/tpt_[redacted]');
    expect(loggedPath(`/v1/tokens/${token}/rotate?x=1`)).toBe('/v1/tokens/tpt_[redacted]/rotate');
    const encryptionKey = 'q8VbGJZ3n0xYw2mTfR7sLkPdA1cE9uHhK4oN6iW5eXz';
    expect(loggedPath(`/v1/entities/${encryptionKey}`)).toBe('/v1/entities/[redacted]');
    expect(loggedPath('/v1/entities/0195f8a2-4b7c-7d3e-9f10-123456789abc/tokens')).toBe(
      '/v1/entities/0195f8a2-4b7c-7d3e-9f10-123456789abc/tokens',
    );
    expect(loggedPath('/v1/analytics/metrics/cache_hit_ratio')).toBe(
      '/v1/analytics/metrics/cache_hit_ratio',
    );
    // A webhook secret is base64: its `/` must not split it into segments that stay visible.
    expect(loggedPath('/v1/x/whsec_/Bny9f3G/Zk2+qL9wXyTa0RmE4sC8vN1hJ6uP3o=')).toBe(
      '/v1/x/whsec_[redacted]',
    );
  });
});
