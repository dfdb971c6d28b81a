/**
 * The README "Token permissions and limits" checks on analytics requests over real HTTP, on both databases:
 * scopes, origins and CORS, addresses (IPv4, IPv6 loopback, trusted proxies),
 * rate limits with their headers, usage limits and their periods, signed
 * requests (fresh, stale, replayed — also after a restart — and through the
 * typed client), the order of the checks, PATCH taking effect on the next
 * request, refusal metrics, and no token value in logs or answers.
 */
import { hash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TokenplaneClient } from '../../core/client/index.ts';
import { signRequest } from '../../core/crypto/http-signatures.ts';
import { generateSecret } from '../../core/domain/secret-format.ts';
import {
  Api,
  advancedEntity,
  ENGINES,
  isProblem,
  type Platform,
  startPlatform,
  startReplica,
} from './helpers.ts';
import { OLD_ENTITY, upgradedFrom } from './upgrade.ts';

const DAY_MS = 86_400_000;

describe.each(ENGINES)('analytics permission checks on %s', (engine) => {
  let p: Platform;
  let entityId: string;
  const values: string[] = [];
  beforeAll(async () => {
    p = await startPlatform(engine);
    entityId = (await advancedEntity(p, 'Checks')).id;
  });
  afterAll(async () => {
    // no token value ever reached a log line
    for (const v of values) expect(p.logs.text).not.toContain(v);
    await p?.close();
  });

  /** A new token with these permission fields (the entity's quota is freed by removing the previous one). */
  const token = async (fields: object = {}) => {
    const page = (await p.api.get(`/v1/entities/${entityId}/tokens`)).body.items;
    for (const t of page) await p.api.delete(`/v1/tokens/${t.id}`);
    const r = await p.api.post(`/v1/entities/${entityId}/tokens`, { name: 'check', ...fields });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    values.push(r.body.value);
    return r.body as { id: string; value: string };
  };
  const get = (value: string, path: string, headers: Record<string, string> = {}) =>
    p.api.get(path, { key: value, headers });
  const series = '/v1/analytics/metrics/requests';

  it('scopes: metrics:core:read reads basic metrics only; the catalogue lists what the scopes allow; [] reads nothing', async () => {
    const t = await token({ scopes: ['metrics:core:read', 'metric:latency_p99:read'] });
    expect((await get(t.value, series)).status).toBe(200);
    expect((await get(t.value, '/v1/analytics/metrics/latency_p99')).status).toBe(200);
    const refused = await get(t.value, '/v1/analytics/metrics/latency_p50');
    expect(isProblem(refused, 'scope-insufficient', 403)).toBe(true);
    expect(refused.body.detail).toMatch(/metric:latency_p50:read/);
    const names = (await get(t.value, '/v1/analytics/metrics')).body.metrics.map(
      (m: { name: string }) => m.name,
    );
    expect(names).toContain('requests');
    expect(names).toContain('latency_p99');
    expect(names).not.toContain('latency_p50');
    const none = await token({ scopes: [] });
    expect((await get(none.value, '/v1/analytics/metrics')).body.metrics).toEqual([]);
    expect(isProblem(await get(none.value, series), 'scope-insufficient', 403)).toBe(true);
  });

  it('tier is judged before scope: a lite entity’s token is tier-insufficient for an extensive metric', async () => {
    const lite = (await p.api.post('/v1/entities', { name: 'Lite reader', kind: 'customer' })).body;
    values.push(lite.defaultToken.value);
    const r = await get(lite.defaultToken.value, '/v1/analytics/metrics/latency_p50');
    expect(isProblem(r, 'tier-insufficient', 403)).toBe(true);
    await p.api.delete(`/v1/entities/${lite.id}`);
  });

  it('origins: exact and wildcard match, others refused; ACAO only for an allowed origin; Vary: Origin always', async () => {
    const t = await token({
      type: 'publishable',
      allowedOrigins: ['https://dash.example.com', 'https://*.example.org:443'.replace(':443', '')],
    });
    expect(t.value).toMatch(/^tpp_/);
    const ok = await get(t.value, series, { origin: 'https://dash.example.com' });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://dash.example.com');
    expect(ok.headers.get('vary')).toMatch(/Origin/);
    expect(ok.headers.get('access-control-expose-headers')).toMatch(/RateLimit/);
    const sub = await get(t.value, series, { origin: 'https://a.b.example.org' });
    expect(sub.status).toBe(200);
    expect(sub.headers.get('access-control-allow-origin')).toBe('https://a.b.example.org');
    for (const origin of ['https://example.org', 'https://evil.com', 'http://dash.example.com']) {
      const no = await get(t.value, series, { origin });
      expect(isProblem(no, 'origin-not-allowed', 403), origin).toBe(true);
      expect(no.headers.get('access-control-allow-origin')).toBeNull();
      expect(no.headers.get('vary')).toMatch(/Origin/);
    }
    const missing = await get(t.value, series);
    expect(isProblem(missing, 'origin-not-allowed', 403)).toBe(true);
    expect(missing.body.detail).toMatch(/no Origin header/);
    // a token without origins may be used from anywhere, and says so to the page
    const any = await token();
    const anyOrigin = await get(any.value, series, { origin: 'https://anywhere.example' });
    expect(anyOrigin.headers.get('access-control-allow-origin')).toBe('https://anywhere.example');
  });

  it('answers CORS preflights without a credential', async () => {
    for (const path of ['/v1/analytics/metrics', series]) {
      const r = await p.api.call('OPTIONS', path, {
        key: null,
        headers: {
          origin: 'https://dash.example.com',
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization',
        },
      });
      expect(r.status).toBe(204);
      expect(r.headers.get('access-control-allow-origin')).toBe('https://dash.example.com');
      expect(r.headers.get('access-control-allow-methods')).toBe('GET');
      expect(r.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
      expect(r.headers.get('vary')).toMatch(/Origin/);
    }
  });

  it('addresses: IPv4 ranges; X-Forwarded-For is ignored unless the peer is a trusted proxy', async () => {
    const local = await token({ allowedIps: ['127.0.0.0/8'] });
    expect((await get(local.value, series)).status).toBe(200);
    const forged = await get(local.value, series, { 'x-forwarded-for': '203.0.113.9' });
    expect(forged.status).toBe(200); // the header is not believed from an untrusted peer
    const far = await token({ allowedIps: ['10.0.0.0/8', '2001:db8::/32'] });
    const refused = await get(far.value, series, { 'x-forwarded-for': '10.1.2.3' });
    expect(isProblem(refused, 'ip-not-allowed', 403)).toBe(true);
    expect(refused.body.detail).toContain('127.0.0.1');

    const proxied = await startReplica(p, { trustedProxies: ['127.0.0.1'] });
    try {
      const api = new Api(proxied.url, proxied.adminKey);
      const opts = (xff: string) => ({ key: far.value, headers: { 'x-forwarded-for': xff } });
      expect((await api.get(series, opts('10.1.2.3'))).status).toBe(200);
      expect((await api.get(series, opts('2001:db8::7, 127.0.0.1'))).status).toBe(200);
      expect(isProblem(await api.get(series, opts('192.0.2.1')), 'ip-not-allowed', 403)).toBe(true);
      expect(isProblem(await api.get(series, { key: far.value }), 'ip-not-allowed', 403)).toBe(
        true,
      );
    } finally {
      await proxied.close();
    }
  });

  it('addresses: IPv6 loopback', async () => {
    const v6 = await startReplica(p, { host: '::1' });
    try {
      const api = new Api(v6.url, v6.adminKey);
      const six = await token({ allowedIps: ['::1'] });
      expect((await api.get(series, { key: six.value })).status).toBe(200);
      const four = await token({ allowedIps: ['127.0.0.1'] });
      const r = await api.get(series, { key: four.value });
      expect(isProblem(r, 'ip-not-allowed', 403)).toBe(true);
      expect(r.body.detail).toContain('::1');
    } finally {
      await v6.close();
    }
  });

  it('rate limits: headers on every answer, 429 with Retry-After, a new window after perSeconds', async () => {
    const t = await token({ rateLimit: { requests: 3, perSeconds: 60 } });
    for (let i = 2; i >= 0; i--) {
      const r = await get(t.value, series);
      expect(r.status).toBe(200);
      expect(r.headers.get('ratelimit-policy')).toBe('"token";q=3;w=60');
      expect(r.headers.get('ratelimit')).toMatch(new RegExp(`^"token";r=${i};t=\\d+$`));
    }
    const limited = await get(t.value, series);
    expect(isProblem(limited, 'rate-limited', 429)).toBe(true);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.headers.get('ratelimit')).toMatch(/^"token";r=0;t=\d+$/);
    // a refusal before the rate limit (scope) carries the headers too, and counts nothing
    const scoped = await get(t.value, '/v1/analytics/metrics/nope');
    expect(scoped.status).toBe(404);
    expect(scoped.headers.get('ratelimit-policy')).toBe('"token";q=3;w=60');
    p.clock.advance(60_000);
    expect((await get(t.value, series)).status).toBe(200);
  });

  it('usage limits: exactly the limit is served, refusals consume nothing, usage is reported, UTC days reset', async () => {
    const t = await token({
      usageLimit: { limit: 3, period: 'day' },
      scopes: ['metrics:core:read'],
    });
    // refused before usage: scope, bad range, unknown metric
    expect((await get(t.value, '/v1/analytics/metrics/latency_p50')).status).toBe(403);
    expect(
      (await get(t.value, `${series}?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z`)).status,
    ).toBe(400);
    for (let i = 0; i < 3; i++) expect((await get(t.value, series)).status).toBe(200);
    const over = await get(t.value, series);
    expect(isProblem(over, 'usage-exceeded', 429)).toBe(true);
    const now = p.clock.now();
    const midnight = new Date(Math.floor(now / DAY_MS + 1) * DAY_MS).toISOString();
    expect(over.body).toMatchObject({ limit: 3, period: 'day', resetsAt: midnight });
    const read = (await p.api.get(`/v1/tokens/${t.id}`)).body;
    expect(read.usage).toEqual({ used: 3, limit: 3, period: 'day', resetsAt: midnight });
    p.clock.advance(Date.parse(midnight) - now + 1);
    expect((await get(t.value, series)).status).toBe(200);
    expect((await p.api.get(`/v1/tokens/${t.id}`)).body.usage.used).toBe(1);
  });

  it('usage limits: a total limit never resets; a rate-limited refusal consumes no usage', async () => {
    const t = await token({
      usageLimit: { limit: 2, period: 'total' },
      rateLimit: { requests: 1, perSeconds: 3600 },
    });
    expect((await get(t.value, series)).status).toBe(200);
    expect((await get(t.value, series)).status).toBe(429); // rate-limited
    expect((await p.api.get(`/v1/tokens/${t.id}`)).body.usage.used).toBe(1);
    p.clock.advance(3600_000);
    expect((await get(t.value, series)).status).toBe(200);
    p.clock.advance(3600_000);
    const over = await get(t.value, series);
    expect(isProblem(over, 'usage-exceeded', 429)).toBe(true);
    expect(over.body.resetsAt).toBeNull();
    p.clock.advance(40 * DAY_MS);
    expect(isProblem(await get(t.value, series), 'usage-exceeded', 429)).toBe(true);
  });

  it('PATCH takes effect on the next request', async () => {
    const t = await token();
    expect((await get(t.value, '/v1/analytics/metrics/latency_p50')).status).toBe(200);
    await p.api.patch(`/v1/tokens/${t.id}`, { scopes: ['metrics:core:read'] });
    expect((await get(t.value, '/v1/analytics/metrics/latency_p50')).status).toBe(403);
    await p.api.patch(`/v1/tokens/${t.id}`, { allowedOrigins: ['https://only.example.com'] });
    expect(isProblem(await get(t.value, series), 'origin-not-allowed', 403)).toBe(true);
    await p.api.patch(`/v1/tokens/${t.id}`, { allowedOrigins: [], allowedIps: ['10.0.0.1'] });
    expect(isProblem(await get(t.value, series), 'ip-not-allowed', 403)).toBe(true);
    await p.api.patch(`/v1/tokens/${t.id}`, {
      allowedIps: [],
      usageLimit: { limit: 1, period: 'total' },
    });
    expect((await get(t.value, series)).status).toBe(200);
    expect((await get(t.value, series)).status).toBe(429);
    await p.api.patch(`/v1/tokens/${t.id}`, { usageLimit: { limit: 2, period: 'total' } });
    expect((await get(t.value, series)).status).toBe(200);
    await p.api.patch(`/v1/tokens/${t.id}`, { requireSignedRequests: true });
    expect(isProblem(await get(t.value, series), 'signature-invalid', 401)).toBe(true);
  });

  it('the checks run in the documented order', async () => {
    const t = await token({
      allowedIps: ['10.0.0.1'],
      allowedOrigins: ['https://a.example.com'],
      scopes: ['metrics:core:read'],
      rateLimit: { requests: 1, perSeconds: 3600 },
      usageLimit: { limit: 1, period: 'total' },
    });
    const bad = { origin: 'https://b.example.com' };
    expect(isProblem(await get('tpt_unknown', series), 'unauthorized', 401)).toBe(true);
    // address before origin before scope
    expect(
      isProblem(
        await get(t.value, '/v1/analytics/metrics/latency_p50', bad),
        'ip-not-allowed',
        403,
      ),
    ).toBe(true);
    await p.api.patch(`/v1/tokens/${t.id}`, { allowedIps: [] });
    expect(
      isProblem(
        await get(t.value, '/v1/analytics/metrics/latency_p50', bad),
        'origin-not-allowed',
        403,
      ),
    ).toBe(true);
    const good = { origin: 'https://a.example.com' };
    expect(
      isProblem(
        await get(t.value, '/v1/analytics/metrics/latency_p50', good),
        'scope-insufficient',
        403,
      ),
    ).toBe(true);
    expect((await get(t.value, series, good)).status).toBe(200);
    // rate before usage: both are used up, the rate limit answers
    expect(isProblem(await get(t.value, series, good), 'rate-limited', 429)).toBe(true);
    p.clock.advance(3600_000);
    expect(isProblem(await get(t.value, series, good), 'usage-exceeded', 429)).toBe(true);
  });

  it('counts refusals by reason in /metrics', async () => {
    const text = (await p.api.get('/metrics', { key: null })).text;
    for (const reason of [
      'scope-insufficient',
      'origin-not-allowed',
      'ip-not-allowed',
      'rate-limited',
      'usage-exceeded',
      'signature-invalid',
      'unauthorized',
    ]) {
      expect(text).toMatch(new RegExp(`tokenplane_problems_total\\{slug="${reason}"\\} [1-9]`));
    }
  });

  describe('signed requests', () => {
    // Signers use the real clock; earlier tests moved the server's.
    beforeEach(() => {
      p.clock.offsetMs = 0;
    });
    const signed = (
      t: { id: string; value: string },
      path: string,
      options: { created?: number; url?: string; key?: string } = {},
    ) =>
      signRequest(
        { method: 'GET', url: options.url ?? p.server.url + path },
        {
          keyId: t.id,
          key: options.key ?? t.value,
          ...(options.created !== undefined ? { created: options.created } : {}),
        },
      );
    const nowS = () => Math.floor(p.clock.now() / 1000);

    it('a signed request is served once; a replay, a stale, a future or a wrong signature is refused', async () => {
      const t = await token({ requireSignedRequests: true });
      const bearer = await get(t.value, series);
      expect(isProblem(bearer, 'signature-invalid', 401)).toBe(true);
      expect(bearer.body.detail).toMatch(/never send its value/);
      const headers = signed(t, series, { created: nowS() });
      expect((await p.api.get(series, { key: null, headers })).status).toBe(200);
      const replay = await p.api.get(series, { key: null, headers });
      expect(isProblem(replay, 'signature-invalid', 401)).toBe(true);
      expect(replay.body.detail).toMatch(/already used/);
      const stale = await p.api.get(series, {
        key: null,
        headers: signed(t, series, { created: nowS() - 301 }),
      });
      expect(isProblem(stale, 'signature-invalid', 401)).toBe(true);
      expect(stale.body.detail).toMatch(/301 s ago/);
      expect(
        (
          await p.api.get(series, {
            key: null,
            headers: signed(t, series, { created: nowS() - 290 }),
          })
        ).status,
      ).toBe(200);
      const future = await p.api.get(series, {
        key: null,
        headers: signed(t, series, { created: nowS() + 400 }),
      });
      expect(isProblem(future, 'signature-invalid', 401)).toBe(true);
      const otherPath = await p.api.get(`${series}?from=2026-01-01T00:00:00Z`, {
        key: null,
        headers: signed(t, series),
      });
      expect(isProblem(otherPath, 'signature-invalid', 401)).toBe(true);
      const wrongKey = await p.api.get(series, {
        key: null,
        headers: signed(t, series, { key: 'tpt_not-the-value' }),
      });
      expect(isProblem(wrongKey, 'signature-invalid', 401)).toBe(true);
      const unknown = await p.api.get(series, {
        key: null,
        headers: signed({ id: '01900000-0000-7000-8000-00000000dead', value: t.value }, series),
      });
      expect(isProblem(unknown, 'unauthorized', 401)).toBe(true);
      const broken = await p.api.get(series, {
        key: null,
        headers: { 'signature-input': 'sig1=("@method");created=1', signature: 'sig1=:AAAA:' },
      });
      expect(isProblem(broken, 'signature-invalid', 401)).toBe(true);
      expect(broken.body.detail).toMatch(/@path, @query/);
    });

    it('a replay is refused after a restart too, and by another server of the database', async () => {
      const t = await token({ requireSignedRequests: true });
      const headers = signed(t, series);
      expect((await p.api.get(series, { key: null, headers })).status).toBe(200);
      await p.restart();
      expect(
        isProblem(await p.api.get(series, { key: null, headers }), 'signature-invalid', 401),
      ).toBe(true);
      const other = await startReplica(p);
      try {
        const again = signRequest(
          { method: 'GET', url: other.url + series },
          { keyId: t.id, key: t.value },
        );
        const api = new Api(other.url, other.adminKey);
        expect((await api.get(series, { key: null, headers: again })).status).toBe(200);
        expect(
          isProblem(await api.get(series, { key: null, headers: again }), 'signature-invalid', 401),
        ).toBe(true);
      } finally {
        await other.close();
      }
    });

    it('concurrent copies of one signature are served exactly once; distinct signatures sent at once to two servers of the database are all served', async () => {
      const t = await token({ requireSignedRequests: true });
      const other = await startReplica(p);
      try {
        const api = new Api(other.url, other.adminKey);
        const headers = signed(t, series);
        const copies = await Promise.all(
          Array.from({ length: 24 }, () => p.api.get(series, { key: null, headers })),
        );
        expect(copies.filter((r) => r.status === 200)).toHaveLength(1);
        for (const r of copies.filter((c) => c.status !== 200)) {
          expect(isProblem(r, 'signature-invalid', 401)).toBe(true);
          expect(r.body.detail).toMatch(/already used/);
        }
        // Distinct signatures (one `created` second apart) in one burst: batched, each its own answer.
        const now = nowS();
        const distinct = await Promise.all(
          Array.from({ length: 24 }, (_, i) =>
            (i % 2 ? api : p.api).get(series, {
              key: null,
              headers: signed(t, series, {
                created: now - i,
                url: (i % 2 ? other.url : p.server.url) + series,
              }),
            }),
          ),
        );
        expect(distinct.map((r) => r.status)).toEqual(distinct.map(() => 200));
      } finally {
        await other.close();
      }
    });

    it('the typed client signs every request with signingTokenId; publishable tokens cannot sign', async () => {
      const t = await token({ requireSignedRequests: true, scopes: ['metrics:core:read'] });
      const client = new TokenplaneClient({
        endpoint: p.server.url,
        apiKey: t.value,
        signingTokenId: t.id,
      });
      try {
        expect((await client.listMetrics()).metrics.map((m) => m.name)).toContain('requests');
        expect((await client.getMetric('requests')).name).toBe('requests');
        expect((await client.getMetric('requests')).points.length).toBeGreaterThan(0);
      } finally {
        await client.close();
      }
      const pub = await token({ type: 'publishable', allowedOrigins: ['https://a.example.com'] });
      const r = await p.api.get(series, {
        key: null,
        headers: { ...signed(pub, series), origin: 'https://a.example.com' },
      });
      expect(isProblem(r, 'signature-invalid', 401)).toBe(true);
    });
  });

  it('no token value appears in any answer about it', async () => {
    const t = await token({ requireSignedRequests: true });
    const answers = [
      await get(t.value, series),
      await p.api.get(`/v1/tokens/${t.id}`),
      await p.api.get(`/v1/audit-events?entityId=${entityId}`),
    ];
    for (const a of answers) expect(a.text).not.toContain(t.value);
  });
});

describe.each(ENGINES)('signatures the version before accepted, on %s', (engine) => {
  it('migration 9 keeps them: their replays are refused, fresh signatures are served', async () => {
    const value = generateSecret('apiToken');
    const tokenId = '01900000-0000-7000-8000-000000000009';
    const series = '/v1/analytics/metrics/requests';
    const nowS = Math.floor(Date.now() / 1000);
    // Not covering @authority, so a signature made now holds at the server started later.
    const sign = (created: number) =>
      signRequest(
        { method: 'GET', url: `http://old.example${series}` },
        { keyId: tokenId, key: value, created, components: ['@method', '@path', '@query'] },
      );
    const accepted = [
      { headers: sign(nowS - 10), acceptedS: nowS - 5 }, // signed, then sent: the usual case
      { headers: sign(nowS + 100), acceptedS: nowS - 5 }, // a signer's clock ahead of the server's
    ];
    await upgradedFrom(
      engine,
      8,
      async ({ tx, box, now }) => {
        await tx.run(
          `INSERT INTO tokens (id, entity_id, name, status, expires_at, hint, digest, sealed_value,
             version, created_at, updated_at) VALUES ($1, $2, 'old', 'active', NULL, 'tpt_…', $3, $4, 1, $5, $5)`,
          [tokenId, OLD_ENTITY, box.digest(value), box.seal(value, tokenId), now],
        );
        // As the version before stored them: the later of created and accepted, plus the window.
        for (const { headers, acceptedS } of accepted) {
          const created = Number(/created=(\d+)/.exec(headers['signature-input'])?.[1]);
          const signature = Buffer.from(/:(.*):/.exec(headers.signature)?.[1] ?? '', 'base64');
          await tx.run('INSERT INTO request_signatures (digest, expires_at) VALUES ($1, $2)', [
            hash('sha256', signature, 'base64url'),
            new Date((Math.max(created, acceptedS) + 301) * 1000).toISOString(),
          ]);
        }
      },
      async (server) => {
        const api = new Api(server.url, server.adminKey);
        for (const { headers } of accepted) {
          const replay = await api.get(series, { key: null, headers });
          expect(isProblem(replay, 'signature-invalid', 401)).toBe(true);
          expect(replay.body.detail).toMatch(/already used/);
        }
        const fresh = sign(Math.floor(Date.now() / 1000));
        expect((await api.get(series, { key: null, headers: fresh })).status).toBe(200);
        expect(
          isProblem(await api.get(series, { key: null, headers: fresh }), 'signature-invalid', 401),
        ).toBe(true);
      },
    );
  });
});
