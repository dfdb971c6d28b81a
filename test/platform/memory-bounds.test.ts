/**
 * Memory under load (issue 13.11): what a flood of requests can make the
 * platform keep is bounded by entry count, whatever the requests carry —
 * proven over real HTTP against the sizes in `tokenplane_cache_entries` and
 * the series in /metrics. The heap those entries live in is bounded by the
 * flags `tokenplane serve` runs with (test/platform/cli.test.ts).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '../../core/crypto/http-signatures.ts';
import { generateSecret } from '../../core/domain/secret-format.ts';
import { advancedEntity, type Platform, startPlatform } from './helpers.ts';

const CACHE_SIZE = 20;

/** `tokenplane_cache_entries{cache}` from the platform's /metrics. */
async function entries(p: Platform, cache: string): Promise<number> {
  const text = (await p.api.get('/metrics', { key: null })).text;
  const line = new RegExp(`^tokenplane_cache_entries\\{cache="${cache}"\\} (\\d+)$`, 'm').exec(
    text,
  );
  if (!line) throw new Error(`no tokenplane_cache_entries{cache="${cache}"} in /metrics`);
  return Number(line[1]);
}

/** Runs `count` requests, `width` at a time. */
async function flood(count: number, width: number, send: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) await send(next++);
    }),
  );
}

describe('memory a flood of requests can claim', () => {
  let p: Platform;
  let entityId: string;
  beforeAll(async () => {
    p = await startPlatform('sqlite', {
      logLevel: 'warn',
      verifyCacheSize: CACHE_SIZE,
      tiers: [
        { name: 'lite', rank: 0, tokenQuota: 1 },
        { name: 'advanced', rank: 1, tokenQuota: 100 },
      ],
    });
    entityId = (await advancedEntity(p, 'flooded')).id;
  });
  afterAll(async () => {
    await p?.close();
  });

  it('well-formed unknown token values: each refused, at most the cache size remembered', async () => {
    const statuses = new Set<number>();
    await flood(10 * CACHE_SIZE, 10, async () => {
      const r = await p.api.get('/v1/analytics/metrics', { key: generateSecret('apiToken') });
      statuses.add(r.status);
    });
    expect([...statuses]).toEqual([401]);
    expect(await entries(p, 'unknown-tokens')).toBe(CACHE_SIZE);
  });

  it('signatures naming unknown token ids: each refused, at most the cache size remembered', async () => {
    const statuses = new Set<number>();
    await flood(10 * CACHE_SIZE, 10, async () => {
      const path = '/v1/analytics/metrics';
      const headers = signRequest(
        { method: 'GET', url: p.server.url + path },
        { keyId: randomUUID(), key: 'not the value' },
      );
      statuses.add((await p.api.get(path, { key: null, headers })).status);
    });
    expect([...statuses]).toEqual([401]);
    expect(await entries(p, 'signing-tokens')).toBe(CACHE_SIZE);
  });

  it('more live tokens than the cache holds: every one still verifies, the cache stays at its size', async () => {
    const values: string[] = [];
    for (let i = 0; i < 3 * CACHE_SIZE; i++) {
      const t = await p.api.post(`/v1/entities/${entityId}/tokens`, { name: `t${i}` });
      values.push(t.body.value);
    }
    const statuses = new Set<number>();
    for (let round = 0; round < 2; round++) {
      await flood(values.length, 10, async (i) => {
        statuses.add((await p.api.get('/v1/analytics/metrics', { key: values[i] })).status);
      });
    }
    expect([...statuses]).toEqual([200]);
    expect(await entries(p, 'verified-tokens')).toBe(CACHE_SIZE);
  });

  it('distinct unknown paths and methods add no metric series', async () => {
    const series = async () =>
      (await p.api.get('/metrics', { key: null })).text
        .split('\n')
        .filter((l) => l.startsWith('tokenplane_http_requests_total{')).length;
    // one of each kind first, so that only new label values could add series
    await p.api.get('/no/such/path/warm-up');
    await p.api.call('DELETE', `/v1/tiers/${randomUUID()}`);
    await p.api.call('PUT', `/v1/tiers/${randomUUID()}`);
    await series();
    const before = await series();
    await flood(200, 10, async (i) => {
      await p.api.get(`/no/such/path/${randomUUID()}?q=${i}`);
      await p.api.call(i % 2 ? 'DELETE' : 'PUT', `/v1/tiers/${randomUUID()}`);
    });
    const text = (await p.api.get('/metrics', { key: null })).text;
    expect(await series()).toBe(before);
    expect(text).not.toMatch(/no\/such\/path\/[0-9a-f]{8}-/);
  });
});
