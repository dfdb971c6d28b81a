/**
 * Usage limits are exact (README "Token permissions and limits"): with 50 concurrent requests against one
 * server, and against two servers on one database, a limit of 20 serves
 * exactly 20 in every round (a round per UTC day); a server killed while it
 * holds leased units never lets the total exceed the limit; and servers write
 * to the database per lease, not per request.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import type { RunningServer } from '../../platform/main.ts';
import {
  Api,
  advancedEntity,
  ENGINES,
  isProblem,
  type Platform,
  startPlatform,
  startReplica,
} from './helpers.ts';

const DAY_MS = 86_400_000;
const BIN = new URL('../../bin/tokenplane.js', import.meta.url).pathname;

async function limitedToken(p: Platform, usageLimit: { limit: number; period: string }) {
  const e = await advancedEntity(p, `Usage ${Math.random()}`);
  return (await p.api.post(`/v1/entities/${e.id}/tokens`, { name: 'metered', usageLimit }))
    .body as {
    id: string;
    value: string;
  };
}

/** Sends `n` requests at once, alternating over the APIs; counts 200s and usage refusals. */
async function burst(apis: Api[], value: string, n: number) {
  const replies = await Promise.all(
    Array.from({ length: n }, (_, i) => (apis[i % apis.length] as Api).metric(value, 'requests')),
  );
  return {
    served: replies.filter((r) => r.status === 200).length,
    refused: replies.filter((r) => isProblem(r, 'usage-exceeded', 429)).length,
  };
}

async function storedCounter(p: Platform, tokenId: string) {
  const db = p.server.app.tokenplane.context.store.db;
  const rows = await db.query(
    'SELECT SUM(granted) AS granted, SUM(used) AS used FROM usage_counters WHERE token_id = $1',
    [tokenId],
  );
  return { granted: Number(rows[0]?.granted ?? 0), used: Number(rows[0]?.used ?? 0) };
}

describe.each(ENGINES)('usage limits on %s', (engine) => {
  it('50 concurrent requests on one server: exactly 20 served, round after round', async () => {
    const p = await startPlatform(engine);
    try {
      const t = await limitedToken(p, { limit: 20, period: 'day' });
      for (let round = 0; round < 3; round++) {
        expect(await burst([p.api], t.value, 50)).toEqual({ served: 20, refused: 30 });
        expect((await p.api.get(`/v1/tokens/${t.id}`)).body.usage.used).toBe(20);
        p.clock.advance(DAY_MS);
      }
    } finally {
      await p.close();
    }
  });

  it('50 concurrent requests over two servers on one database: exactly 20 served, round after round', async () => {
    const a = await startPlatform(engine);
    let b: RunningServer | undefined;
    try {
      b = await startReplica(a);
      const apiB = new Api(b.url, b.adminKey);
      const t = await limitedToken(a, { limit: 20, period: 'day' });
      for (let round = 0; round < 4; round++) {
        expect(await burst([a.api, apiB], t.value, 50)).toEqual({ served: 20, refused: 30 });
        // each server reports what it served at its next tick
        await a.server.app.tokenplane.context.usage.tick();
        await b.app.tokenplane.context.usage.tick();
        expect((await a.api.get(`/v1/tokens/${t.id}`)).body.usage.used).toBe(20);
        a.clock.advance(DAY_MS);
      }
    } finally {
      await b?.close();
      await a.close();
    }
  });

  it('leases blocks: far fewer database writes than requests', async () => {
    const p = await startPlatform(engine);
    try {
      const t = await limitedToken(p, { limit: 1_000_000, period: 'month' });
      const { ledger } = p.server.app.tokenplane.context.usage;
      let leases = 0;
      const lease = ledger.lease;
      ledger.lease = (...args) => {
        leases++;
        return lease(...args);
      };
      for (let i = 0; i < 10; i++) await burst([p.api], t.value, 20);
      expect(leases).toBeLessThan(40); // 200 requests
      await p.server.app.tokenplane.context.usage.tick();
      expect((await p.api.get(`/v1/tokens/${t.id}`)).body.usage.used).toBe(200);
    } finally {
      await p.close();
    }
  });

  it('an idle server gives its unused units back, so another server can serve them', async () => {
    const a = await startPlatform(engine);
    let b: RunningServer | undefined;
    try {
      b = await startReplica(a);
      const apiB = new Api(b.url, b.adminKey);
      const limit = 100;
      const t = await limitedToken(a, { limit, period: 'total' });
      let servedB = 0;
      while ((await storedCounter(a, t.id)).granted <= servedB && servedB < limit) {
        expect((await apiB.metric(t.value, 'requests')).status).toBe(200);
        servedB++;
      }
      expect((await storedCounter(a, t.id)).granted).toBeGreaterThan(servedB);
      const usage = b.app.tokenplane.context.usage;
      await usage.tick(); // reports what B served
      await usage.tick(); // idle for a whole tick: gives the rest back
      expect(await storedCounter(a, t.id)).toEqual({ granted: servedB, used: servedB });
      let servedA = 0;
      while ((await a.api.metric(t.value, 'requests')).status === 200) servedA++;
      expect(servedA + servedB).toBe(limit);
    } finally {
      await b?.close();
      await a.close();
    }
  });

  it('a lower limit set on one server binds another that holds leased units, once its cache has it', async () => {
    const a = await startPlatform(engine);
    let b: RunningServer | undefined;
    try {
      b = await startReplica(a);
      const apiB = new Api(b.url, b.adminKey);
      const t = await limitedToken(a, { limit: 100, period: 'total' });
      let servedB = 0;
      while ((await storedCounter(a, t.id)).granted <= servedB && servedB < 100) {
        expect((await apiB.metric(t.value, 'requests')).status).toBe(200);
        servedB++;
      }
      const patched = await a.api.patch(`/v1/tokens/${t.id}`, {
        usageLimit: { limit: servedB, period: 'total' },
      });
      expect(patched.status).toBe(200);
      a.clock.advance(5001); // past B's verification cache
      expect(isProblem(await apiB.metric(t.value, 'requests'), 'usage-exceeded', 429)).toBe(true);
      expect(isProblem(await a.api.metric(t.value, 'requests'), 'usage-exceeded', 429)).toBe(true);
      await b.app.tokenplane.context.usage.settled();
      expect((await storedCounter(a, t.id)).granted).toBe(servedB);
    } finally {
      await b?.close();
      await a.close();
    }
  });

  it('a server killed while holding leased units never lets the total exceed the limit', async () => {
    const a = await startPlatform(engine);
    let child: ChildProcess | undefined;
    try {
      const limit = 200;
      const t = await limitedToken(a, { limit, period: 'total' });
      child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', a.dataDir], {
        env: {
          ...process.env,
          TOKENPLANE_DATABASE_URL: a.databaseUrl ?? '',
          TOKENPLANE_LOG_LEVEL: 'info',
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const url = await listeningUrl(child);
      const apiB = new Api(url, a.server.adminKey);
      // Serve on B until it holds more units than it served: a lease in hand.
      let servedB = 0;
      for (let i = 0; i < limit && (await storedCounter(a, t.id)).granted <= servedB; i++) {
        expect((await apiB.metric(t.value, 'requests')).status).toBe(200);
        servedB++;
      }
      const atKill = await storedCounter(a, t.id);
      expect(atKill.granted).toBeGreaterThan(servedB);
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;

      let servedA = 0;
      for (;;) {
        const r = await a.api.metric(t.value, 'requests');
        if (r.status !== 200) {
          expect(isProblem(r, 'usage-exceeded', 429)).toBe(true);
          break;
        }
        servedA++;
        expect(servedA).toBeLessThanOrEqual(limit);
      }
      // A got every unit the dead server did not hold; the dead server's unused units stay spent.
      expect(servedA).toBe(limit - atKill.granted);
      expect(servedA + servedB).toBeLessThan(limit);
      expect((await storedCounter(a, t.id)).granted).toBe(limit);
    } finally {
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await a.close();
    }
  });
});

/** The URL a `tokenplane serve` child logs when it listens. */
async function listeningUrl(child: ChildProcess): Promise<string> {
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  for await (const line of lines) {
    try {
      const entry = JSON.parse(line) as { url?: string };
      if (entry.url) return entry.url;
    } catch {}
  }
  throw new Error('tokenplane serve exited before it listened');
}
