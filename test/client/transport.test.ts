/**
 * The client's transport against small real HTTP servers on loopback: retries and
 * their limits, idempotency keys, timeouts, response validation, request shape.
 */
import { describe, expect, it } from 'vitest';
import {
  InternalError,
  NotFoundError,
  QuotaExceededError,
  RateLimitedError,
  TokenplaneClient,
  type TokenplaneClientOptions,
  TokenplaneConnectionError,
  TokenplaneResponseError,
} from '../../core/client/index.ts';
import { backoffDelay, parseRetryAfter, Transport } from '../../core/client/transport.ts';
import {
  type Answer,
  clientOf,
  closingAfterEach,
  entityBody,
  ids,
  loopback,
  problem,
  tokenBody,
} from './loopback.ts';

const KEY = 'tpk_test_secret_admin_key_0123456789';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const opened = closingAfterEach();

const setup = (
  handler: Parameters<typeof loopback>[0],
  opts: Partial<TokenplaneClientOptions> = {},
) => clientOf(opened, handler, { apiKey: KEY, retryBaseMs: 1, ...opts });

const unavailable: Answer = problem('internal', 503);

describe('retries', () => {
  it('retries a read on 503 with backoff until it succeeds', async () => {
    const { server, client } = await setup((_, n) =>
      n < 3 ? unavailable : { status: 200, body: entityBody() },
    );
    const entity = await client.getEntity(ids.entity);
    expect(entity.id).toBe(ids.entity);
    expect(server.requests).toHaveLength(3);
  });

  it('gives up after `retries` retries and throws the last error', async () => {
    const { server, client } = await setup(() => unavailable, { retries: 2 });
    const err = await client.getEntity(ids.entity).catch((e) => e);
    expect(err).toBeInstanceOf(InternalError);
    expect(err.status).toBe(503);
    expect(server.requests).toHaveLength(3);
  });

  it('retries: 0 means one attempt', async () => {
    const { server, client } = await setup(() => unavailable, { retries: 0 });
    await expect(client.listTiers()).rejects.toBeInstanceOf(InternalError);
    expect(server.requests).toHaveLength(1);
  });

  it('honours Retry-After on 429', async () => {
    const { server, client } = await setup((_, n) =>
      n === 1
        ? { ...problem('rate-limited', 429), headers: { 'retry-after': '0' } }
        : { status: 200, body: { items: [{ name: 'lite', rank: 0, tokenQuota: 1 }] } },
    );
    expect(await client.listTiers()).toEqual([{ name: 'lite', rank: 0, tokenQuota: 1 }]);
    expect(server.requests).toHaveLength(2);
  });

  it('does not wait for a Retry-After beyond its cap: throws RateLimitedError at once', async () => {
    const { server, client } = await setup(
      () => ({ ...problem('rate-limited', 429), headers: { 'retry-after': '3600' } }),
      { retryMaxDelayMs: 1000 },
    );
    const err = await client.listTiers().catch((e) => e);
    expect(err).toBeInstanceOf(RateLimitedError);
    expect(err.retryAfterMs).toBe(3_600_000);
    expect(server.requests).toHaveLength(1);
  });

  it('retries a read after the connection drops', async () => {
    const { server, client } = await setup((_, n) =>
      n === 1 ? 'drop' : { status: 200, body: tokenBody() },
    );
    expect((await client.getToken(ids.token)).id).toBe(ids.token);
    expect(server.requests).toHaveLength(2);
  });

  it('never retries a 4xx answer', async () => {
    const { server, client } = await setup(() =>
      problem('quota-exceeded', 409, { tier: 'lite', quota: 1, inUse: 1 }),
    );
    await expect(client.createToken(ids.entity, { name: 'x' })).rejects.toBeInstanceOf(
      QuotaExceededError,
    );
    expect(server.requests).toHaveLength(1);
  });

  it('retries PATCH (absolute assignments) with its If-Match on every attempt', async () => {
    const { server, client } = await setup((_, n) =>
      n === 1 ? unavailable : { status: 200, body: tokenBody({ status: 'disabled' }) },
    );
    const t = await client.updateToken(ids.token, { status: 'disabled' }, { ifMatch: '"v1"' });
    expect(t.status).toBe('disabled');
    expect(server.requests.map((r) => r.headers['if-match'])).toEqual(['"v1"', '"v1"']);
  });

  it('a DELETE retried after a lost answer that finds the object gone succeeds', async () => {
    const { server, client } = await setup((_, n) =>
      n === 1 ? 'drop' : problem('not-found', 404),
    );
    await expect(client.deleteToken(ids.token)).resolves.toBeUndefined();
    expect(server.requests).toHaveLength(2);
  });

  it('a DELETE of a missing object still throws NotFoundError', async () => {
    const { client } = await setup(() => problem('not-found', 404));
    await expect(client.deleteEntity(ids.entity)).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('requests that are not safe to repeat', () => {
  async function rawTransport(handler: Parameters<typeof loopback>[0]) {
    const server = await loopback(handler);
    opened(server);
    const t = new Transport({ endpoint: server.url, apiKey: KEY, retryBaseMs: 1 });
    opened(t);
    return { server, t };
  }

  it('a POST without Idempotency-Key is not retried on 503', async () => {
    const { server, t } = await rawTransport(() => unavailable);
    await expect(t.send({ method: 'POST', path: '/v1/x', body: {} })).rejects.toBeInstanceOf(
      InternalError,
    );
    expect(server.requests).toHaveLength(1);
  });

  it('a POST without Idempotency-Key is not retried after the connection drops', async () => {
    const { server, t } = await rawTransport(() => 'drop');
    await expect(t.send({ method: 'POST', path: '/v1/x', body: {} })).rejects.toBeInstanceOf(
      TokenplaneConnectionError,
    );
    expect(server.requests).toHaveLength(1);
  });

  it('a POST without Idempotency-Key is retried on 429 (the server did not act)', async () => {
    const { server, t } = await rawTransport((_, n) =>
      n === 1
        ? { ...problem('rate-limited', 429), headers: { 'retry-after': '0' } }
        : { status: 204 },
    );
    await t.send({ method: 'POST', path: '/v1/x', body: {} });
    expect(server.requests).toHaveLength(2);
  });

  it('a POST with an Idempotency-Key is retried', async () => {
    const { server, t } = await rawTransport((_, n) => (n === 1 ? unavailable : { status: 204 }));
    await t.send({ method: 'POST', path: '/v1/x', body: {}, headers: { 'idempotency-key': 'k1' } });
    expect(server.requests).toHaveLength(2);
  });
});

describe('idempotency keys', () => {
  it('every create and rotate carries a fresh random key, the same on each retry', async () => {
    const created = { status: 201, body: tokenBody({ value: 'tpt_value' }) } as const;
    const { server, client } = await setup((_, n) => (n % 2 === 1 ? unavailable : created));
    await client.createToken(ids.entity, { name: 'a' });
    await client.createToken(ids.entity, { name: 'a' });
    await client.rotateToken(ids.token);
    const keys = server.requests.map((r) => r.headers['idempotency-key']);
    expect(keys).toHaveLength(6);
    for (const k of keys) expect(k).toMatch(UUID);
    expect(keys[0]).toBe(keys[1]);
    expect(keys[2]).toBe(keys[3]);
    expect(keys[4]).toBe(keys[5]);
    expect(new Set(keys).size).toBe(3);
  });

  it("passes the caller's key through", async () => {
    const { server, client } = await setup(() => ({
      status: 201,
      body: entityBody(ids.entity, { defaultToken: tokenBody({ value: 'tpt_v' }) }),
    }));
    const e = await client.createEntity(
      { name: 'acme', kind: 'reseller' },
      { idempotencyKey: 'mine-1' },
    );
    expect(e.defaultToken?.value).toBe('tpt_v');
    expect(server.requests[0]?.headers['idempotency-key']).toBe('mine-1');
  });

  it('a create whose answer is lost is issued once (server replays by key)', async () => {
    // A server that honours Idempotency-Key as the platform does, but loses the
    // first answer on the way back.
    const byKey = new Map<string, unknown>();
    let issued = 0;
    const { server, client } = await setup((req, n) => {
      const key = String(req.headers['idempotency-key']);
      if (!byKey.has(key)) {
        issued++;
        byKey.set(key, tokenBody({ value: `tpt_issued_${issued}` }));
      }
      return n === 1 ? 'drop' : { status: 201, body: byKey.get(key) };
    });
    const t = await client.createToken(ids.entity, { name: 'ci' });
    expect(server.requests).toHaveLength(2);
    expect(issued).toBe(1);
    expect(t.value).toBe('tpt_issued_1');
  });
});

describe('timeouts and connection errors', () => {
  it('an attempt that gets no answer within timeoutMs fails with TokenplaneConnectionError', async () => {
    const { server, client } = await setup(() => 'hang', { timeoutMs: 200, retries: 1 });
    const err = await client.getEntity(ids.entity).catch((e) => e);
    expect(err).toBeInstanceOf(TokenplaneConnectionError);
    expect(err.code).toBe('TIMEOUT');
    expect(server.requests).toHaveLength(2);
  });

  it('a refused connection is a TokenplaneConnectionError', async () => {
    const server = await loopback(() => ({ status: 204 }));
    const url = server.url;
    await server.close();
    const client = new TokenplaneClient({ endpoint: url, apiKey: KEY, retries: 1, retryBaseMs: 1 });
    opened(client);
    const err = await client.listTiers().catch((e) => e);
    expect(err).toBeInstanceOf(TokenplaneConnectionError);
    expect(err.code).toBe('ECONNREFUSED');
  });
});

describe('answers that break the contract', () => {
  it('a body that does not match the schema is a TokenplaneResponseError without values', async () => {
    const { client } = await setup(() => ({
      status: 200,
      body: tokenBody({ status: 'weird-status-value', hint: 42 }),
    }));
    const err = await client.getToken(ids.token).catch((e) => e);
    expect(err).toBeInstanceOf(TokenplaneResponseError);
    expect(err.issues.join('\n')).toMatch(/status/);
    expect(err.issues.join('\n')).toMatch(/hint/);
    expect(err.message).not.toContain('weird-status-value');
  });

  it('a body that is not JSON is a TokenplaneResponseError, not retried', async () => {
    const { server, client } = await setup(() => ({ status: 200, body: '<html>' }));
    await expect(client.listTiers()).rejects.toBeInstanceOf(TokenplaneResponseError);
    expect(server.requests).toHaveLength(1);
  });

  it('a missing ETag is a TokenplaneResponseError', async () => {
    const { client } = await setup(() => ({ status: 200, body: entityBody() }));
    await expect(client.getEntityWithETag(ids.entity)).rejects.toBeInstanceOf(
      TokenplaneResponseError,
    );
  });
});

describe('request shape', () => {
  it('sends bearer auth, JSON, query strings, and keeps an endpoint path prefix', async () => {
    const { server, client } = await setup(
      () => ({ status: 200, body: { items: [], nextCursor: null } }),
      { userAgent: 'test-agent/1' },
    );
    const prefixed = new TokenplaneClient({ endpoint: `${server.url}/api/`, apiKey: KEY });
    opened(prefixed);
    await client.listEntities({ parentId: ids.entity, limit: 10, cursor: 'a b&c' });
    await prefixed.listTokens(ids.entity);
    const [a, b] = server.requests;
    expect(a?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(a?.headers['user-agent']).toBe('test-agent/1');
    const url = new URL(a?.url ?? '', 'http://x');
    expect(url.pathname).toBe('/v1/entities');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      parentId: ids.entity,
      limit: '10',
      cursor: 'a b&c',
    });
    expect(b?.url).toBe(`/api/v1/entities/${ids.entity}/tokens`);
  });

  it('sends JSON bodies and encodes path segments', async () => {
    const { server, client } = await setup(() => ({
      status: 200,
      body: { name: 'x/y', points: [] },
    }));
    await client.getMetric('x/y', { from: '2026-01-01T00:00:00Z' });
    expect(server.requests[0]?.url).toBe(
      '/v1/analytics/metrics/x%2Fy?from=2026-01-01T00%3A00%3A00Z',
    );
    await setup(() => ({ status: 200, body: { active: false } })).then(
      async ({ server, client }) => {
        expect(await client.introspect('tpt_abc')).toEqual({ active: false });
        expect(server.requests[0]?.headers['content-type']).toBe('application/json');
        expect(JSON.parse(server.requests[0]?.body ?? '')).toEqual({ token: 'tpt_abc' });
      },
    );
  });

  it('listAll* follows nextCursor to the end', async () => {
    const { server, client } = await setup((req) => {
      const cursor = new URL(req.url, 'http://x').searchParams.get('cursor');
      const n = cursor ? Number(cursor) : 0;
      return {
        status: 200,
        body: {
          items: [tokenBody({ name: `t${n}` })],
          nextCursor: n < 2 ? String(n + 1) : null,
        },
      };
    });
    const all = await client.listAllTokens(ids.entity);
    expect(all.map((t) => t.name)).toEqual(['t0', 't1', 't2']);
    expect(server.requests).toHaveLength(3);
  });

  it('drops whitespace around the key and refuses one that cannot be a header', async () => {
    const { server, client } = await setup(() => ({ status: 200, body: { items: [] } }), {
      apiKey: `  ${KEY}\n`,
    });
    await client.listTiers();
    expect(server.requests[0]?.headers.authorization).toBe(`Bearer ${KEY}`);
    let err: unknown;
    try {
      new TokenplaneClient({ endpoint: server.url, apiKey: 'two\nlines' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TypeError);
    expect(String(err)).not.toContain('lines');
  });

  it('does not retry 501', async () => {
    const { server, client } = await setup(() => ({ status: 501 }));
    await expect(client.listTiers()).rejects.toBeInstanceOf(InternalError);
    expect(server.requests).toHaveLength(1);
  });

  it('refuses an endpoint with credentials or a foreign scheme', () => {
    expect(() => new TokenplaneClient({ endpoint: 'http://u:p@h', apiKey: KEY })).toThrow(
      TypeError,
    );
    expect(() => new TokenplaneClient({ endpoint: 'ftp://h', apiKey: KEY })).toThrow(TypeError);
    expect(() => new TokenplaneClient({ endpoint: 'http://h', apiKey: '' })).toThrow(TypeError);
  });
});

describe('backoff', () => {
  it('full jitter stays within [0, min(cap, base·2^n))', () => {
    expect(backoffDelay(0, 100, 10_000, () => 0)).toBe(0);
    expect(backoffDelay(0, 100, 10_000, () => 0.999)).toBe(99);
    expect(backoffDelay(3, 100, 10_000, () => 0.5)).toBe(400);
    expect(backoffDelay(20, 100, 10_000, () => 0.999)).toBe(9990);
  });

  it('parses Retry-After seconds and dates', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});
