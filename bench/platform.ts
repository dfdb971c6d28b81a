/**
 * `npm run bench` — the platform's performance, not a test.
 *
 * 1. Token-authenticated analytics (GET /v1/analytics/metrics/requests over one
 *    hour = 60 points, and the catalogue GET /v1/analytics/metrics) against a bare
 *    fastify hello-world, same machine, same run: throughput ratio and p99.
 *    Target on SQLite: ratio ≥ 0.6, p99 < 10 ms.
 * 2. Token-create throughput (POST /v1/entities/{id}/tokens) on SQLite and
 *    PostgreSQL (a throwaway cluster from the test harness).
 *
 * Each server runs in its own process; autocannon (50 connections) runs here.
 * BENCH_DURATION (seconds, default 10) sets each run's length.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { startPostgres } from '../test/harness/postgres.ts';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = 50;

type Started = { url: string; adminKey?: string; child: ChildProcess };

async function serve(...args: string[]): Promise<Started> {
  const child = spawn(
    process.execPath,
    [new URL('./platform-server.ts', import.meta.url).pathname, ...args],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  for await (const line of lines) {
    try {
      const info = JSON.parse(line) as { url?: string; adminKey?: string };
      if (info.url) return { ...info, url: info.url, child };
    } catch {}
  }
  throw new Error(`server ${args.join(' ')} exited before it was ready`);
}

async function stop(s: Started): Promise<void> {
  const exited = new Promise((resolve) => s.child.once('exit', resolve));
  s.child.kill('SIGTERM');
  await exited;
}

type Run = { name: string; rps: number; p50: number; p99: number; non2xx: number; errors: number };

async function load(
  name: string,
  options: {
    url: string;
    method?: 'GET' | 'POST';
    headers?: Record<string, string>;
    body?: string;
  },
  duration = DURATION,
): Promise<Run> {
  // warm-up (JIT, caches, connection pools)
  await autocannon({ ...options, connections: CONNECTIONS, duration: 2 });
  const r = await autocannon({ ...options, connections: CONNECTIONS, duration });
  const run = {
    name,
    rps: Math.round(r.requests.average),
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors,
  };
  console.log(
    `${name.padEnd(44)} ${String(run.rps).padStart(7)} req/s   p50 ${String(run.p50).padStart(3)} ms   p99 ${String(run.p99).padStart(3)} ms   non-2xx ${run.non2xx}   errors ${run.errors}`,
  );
  return run;
}

async function admin(s: Started, method: string, path: string, body?: unknown) {
  const res = await fetch(s.url + path, {
    method,
    headers: { authorization: `Bearer ${s.adminKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<any>;
}

async function createBench(label: string, databaseUrl?: string): Promise<Run> {
  const s = await serve('platform', ...(databaseUrl ? [databaseUrl] : []));
  try {
    const e = await admin(s, 'POST', '/v1/entities', {
      name: 'bench',
      kind: 'customer',
      tier: 'bench',
      defaultToken: false,
    });
    return await load(`token create (${label})`, {
      url: `${s.url}/v1/entities/${e.id}/tokens`,
      method: 'POST',
      headers: { authorization: `Bearer ${s.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bench' }),
    });
  } finally {
    await stop(s);
  }
}

console.log(
  `autocannon, ${CONNECTIONS} connections, ${DURATION} s per run, Node ${process.version}\n`,
);

const hello = await serve('hello');
const platform = await serve('platform');
let ratio: { series: number; catalog: number };
let runs: Run[] = [];
try {
  const e = await admin(platform, 'POST', '/v1/entities', {
    name: 'reader',
    kind: 'customer',
    tier: 'advanced',
  });
  const auth = { authorization: `Bearer ${e.defaultToken.value}` };
  const to = new Date(Math.floor(Date.now() / 60_000) * 60_000);
  const from = new Date(to.getTime() - 3600_000);
  const q = `?from=${from.toISOString()}&to=${to.toISOString()}`;
  const base = await load('bare fastify GET /hello', { url: `${hello.url}/hello` });
  const series = await load('analytics series (token auth, 60 points)', {
    url: `${platform.url}/v1/analytics/metrics/requests${q}`,
    headers: auth,
  });
  const catalog = await load('analytics catalogue (token auth)', {
    url: `${platform.url}/v1/analytics/metrics`,
    headers: auth,
  });
  runs = [base, series, catalog];
  ratio = { series: series.rps / base.rps, catalog: catalog.rps / base.rps };
} finally {
  await stop(hello);
  await stop(platform);
}

const sqliteCreate = await createBench('SQLite');
const pg = await startPostgres();
let pgCreate: Run;
try {
  pgCreate = await createBench('PostgreSQL', await pg.createDatabase());
} finally {
  await pg.stop();
}

console.log(`
throughput ratio analytics/hello: series ${ratio.series.toFixed(2)}, catalogue ${ratio.catalog.toFixed(2)} (target ≥ 0.6)
p99: series ${runs[1]?.p99} ms, catalogue ${runs[2]?.p99} ms (target < 10 ms)
token creates: SQLite ${sqliteCreate.rps} req/s (p99 ${sqliteCreate.p99} ms), PostgreSQL ${pgCreate.rps} req/s (p99 ${pgCreate.p99} ms)`);
