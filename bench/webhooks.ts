/**
 * `npm run bench:webhooks` — lifecycle events and revocation (README "Lifecycle events, leak response, revocation across servers"), not a test.
 *
 * 1. Webhook delivery, on SQLite and on PostgreSQL: BENCH_CREATES (default 1000)
 *    token creates under load (autocannon, 50 connections) without any webhook, then with one webhook
 *    subscribed to token.created — the outbox's cost as ratios of throughput
 *    and server CPU per create against the same run's baseline — and how fast
 *    the deliveries reach a loopback receiver (deliveries/s until the backlog
 *    is drained); BENCH_ROUNDS (default 3) alternating rounds, medians. Then end-to-end latency (commit → receiver) of creates sent
 *    one at a time, p50/p99.
 * 2. Revocation across two servers on one PostgreSQL database: BENCH_REVOCATIONS
 *    (default 200) disables on server A, each timed from A's answer until
 *    server B first refuses the token (B polls continuously), p50/p99 — against
 *    the 5 s verification-cache lifetime that bounded it before.
 *
 * Each server runs in its own process; load generator and receiver run here.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import autocannon from 'autocannon';
import { generateSecret } from '../core/domain/secret-format.ts';
import { listenOnLoopback } from '../test/harness/ports.ts';
import { startPostgres } from '../test/harness/postgres.ts';
import { waitFor } from '../test/harness/wait.ts';
import { cpuSeconds, serveWith, stop } from './servers.ts';

const CREATES = Number(process.env.BENCH_CREATES ?? 1000);
const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 200);
const REVOCATIONS = Number(process.env.BENCH_REVOCATIONS ?? 200);
const CONNECTIONS = 50;

type Started = Awaited<ReturnType<typeof serve>>;

/** A platform on this database (SQLite without one) with these variables; it prints its admin key. */
async function serve(databaseUrl: string | undefined, env: Record<string, string> = {}) {
  const s = await serveWith({ env }, 'platform', ...(databaseUrl ? [databaseUrl] : []));
  return { ...s, adminKey: s.adminKey as string };
}

async function call(s: Started, method: string, path: string, body?: unknown, key = s.adminKey) {
  const res = await fetch(s.url + path, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  // biome-ignore lint/suspicious/noExplicitAny: the bench reads a few known fields
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as any };
}

/** A receiver that records when each delivery arrived and the event's own timestamp. */
async function receiver() {
  const arrivals: { at: number; eventAt: number }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      const payload = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { timestamp: string };
      arrivals.push({ at, eventAt: Date.parse(payload.timestamp) });
      res.writeHead(204).end();
    });
  });
  const { url, close } = await listenOnLoopback(server);
  return { url: `${url}/hook`, arrivals, close };
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};
const ms = (v: number) => `${v.toFixed(1)} ms`;

/** CREATES token creates (a fixed amount: no run ends with requests in flight): throughput and server CPU per create. */
async function creates(s: Started, entityId: string) {
  const options = {
    url: `${s.url}/v1/entities/${entityId}/tokens`,
    method: 'POST' as const,
    headers: { authorization: `Bearer ${s.adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench' }),
    connections: CONNECTIONS,
    // 50 clients queue on one entity's lock: on a busy machine a create can wait long
    timeout: 120,
  };
  await autocannon({ ...options, amount: CONNECTIONS * 4 }); // warm-up
  const cpu = cpuSeconds(s.child.pid);
  const started = performance.now();
  const r = await autocannon({ ...options, amount: CREATES });
  const seconds = (performance.now() - started) / 1000;
  if (r.non2xx || r.errors) throw new Error(`${r.non2xx} non-2xx answers, ${r.errors} errors`);
  return {
    rps: r.requests.total / seconds,
    cpuUs: ((cpuSeconds(s.child.pid) - cpu) * 1e6) / Math.max(1, r.requests.total),
  };
}

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const median = (values: number[]) => percentile(values, 50);

async function deliveryBench(label: string, databaseUrl?: string): Promise<void> {
  const s = await serve(databaseUrl, { BENCH_WEBHOOK_POLL_MS: '1000' });
  const hook = await receiver();
  try {
    let n = 0;
    const entity = async () =>
      (
        await call(s, 'POST', '/v1/entities', {
          name: `bench ${n++}`,
          kind: 'customer',
          tier: 'bench',
          defaultToken: false,
        })
      ).body.id as string;
    // Rounds alternate the baseline and the subscribed run (each on a fresh
    // entity, so both count the same number of tokens); medians are reported.
    const plain: { rps: number; cpuUs: number }[] = [];
    const subscribed: { rps: number; cpuUs: number }[] = [];
    const deliveries: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      plain.push(await creates(s, await entity()));
      const id = await entity();
      await call(s, 'POST', `/v1/entities/${id}/webhooks`, {
        url: hook.url,
        events: ['token.created'],
      });
      hook.arrivals.length = 0;
      const startedAt = Date.now();
      subscribed.push(await creates(s, id));
      const expected = (await call(s, 'GET', `/v1/entities/${id}`)).body.tokenCount as number;
      await waitFor('the deliveries', () => hook.arrivals.length >= expected, 300_000, 5);
      deliveries.push(
        expected / ((Math.max(...hook.arrivals.map((a) => a.at)) - startedAt) / 1000),
      );
    }
    const [p, w] = [plain, subscribed].map((runs) => ({
      rps: median(runs.map((r) => r.rps)),
      cpuUs: median(runs.map((r) => r.cpuUs)),
    })) as [{ rps: number; cpuUs: number }, { rps: number; cpuUs: number }];
    console.log(
      `${label.padEnd(10)} creates, no webhook   ${p.rps.toFixed(0).padStart(6)} /s   CPU ${p.cpuUs.toFixed(0).padStart(5)} µs/create`,
    );
    console.log(
      `${label.padEnd(10)} creates, 1 webhook    ${w.rps.toFixed(0).padStart(6)} /s   CPU ${w.cpuUs.toFixed(0).padStart(5)} µs/create (sending included)   ratio ${(w.rps / p.rps).toFixed(2)}× throughput, ${(w.cpuUs / p.cpuUs).toFixed(2)}× CPU`,
    );
    console.log(
      `${label.padEnd(10)} deliveries            ${median(deliveries).toFixed(0).padStart(6)} /s   (from the start of the load until the receiver had every event)`,
    );

    // end-to-end latency without a backlog: one create at a time
    const id = await entity();
    await call(s, 'POST', `/v1/entities/${id}/webhooks`, {
      url: hook.url,
      events: ['token.created'],
    });
    hook.arrivals.length = 0;
    for (let i = 0; i < SEQUENTIAL; i++) {
      const before = hook.arrivals.length;
      await call(s, 'POST', `/v1/entities/${id}/tokens`, { name: `seq${i}` });
      await waitFor('a delivery', () => hook.arrivals.length > before, 10_000, 5);
    }
    const latencies = hook.arrivals.map((a) => a.at - a.eventAt);
    console.log(
      `${label.padEnd(10)} commit → receiver     p50 ${ms(percentile(latencies, 50))}   p99 ${ms(percentile(latencies, 99))}   (${SEQUENTIAL} creates one at a time)`,
    );
  } finally {
    await hook.close();
    await stop(s);
  }
}

async function revocationBench(databaseUrl: string): Promise<void> {
  const env = {
    BENCH_ADMIN_KEY: generateSecret('adminKey'),
    BENCH_ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
  };
  const a = await serve(databaseUrl, env);
  const b = await serve(databaseUrl, env);
  try {
    const e = (
      await call(a, 'POST', '/v1/entities', { name: 'revoke', kind: 'customer', tier: 'bench' })
    ).body;
    const token = e.defaultToken as { id: string; value: string };
    const readOnB = async () =>
      (await call(b, 'GET', '/v1/analytics/metrics/requests', undefined, token.value)).status;
    const latencies: number[] = [];
    for (let i = 0; i < REVOCATIONS; i++) {
      await waitFor('the token on B', async () => (await readOnB()) === 200, 10_000, 5); // cached (again) on B
      await call(a, 'PATCH', `/v1/tokens/${token.id}`, { status: 'disabled' });
      const answered = performance.now();
      await waitFor('the refusal on B', async () => (await readOnB()) === 401, 10_000, 5);
      latencies.push(performance.now() - answered);
      await call(a, 'PATCH', `/v1/tokens/${token.id}`, { status: 'active' });
    }
    console.log(
      `revocation A → B (PostgreSQL)   p50 ${ms(percentile(latencies, 50))}   p99 ${ms(percentile(latencies, 99))}   max ${ms(Math.max(...latencies))}   over ${REVOCATIONS} disables (from A's answer to B's first 401; bound before: the 5 s cache lifetime)`,
    );
  } finally {
    await stop(b);
    await stop(a);
  }
}

console.log(
  `autocannon, ${CONNECTIONS} connections, ${CREATES} creates per run, Node ${process.version}\n`,
);
const pg = await startPostgres();
try {
  await deliveryBench('SQLite');
  await deliveryBench('PostgreSQL', await pg.createDatabase());
  console.log('');
  await revocationBench(await pg.createDatabase());
} finally {
  await pg.stop();
}
