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
 * The machine may be shared, so the three read runs are interleaved over
 * BENCH_ROUNDS rounds (default 3) of BENCH_DURATION seconds (default 5) and the
 * ratio is computed from the medians.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { startPostgres } from '../test/harness/postgres.ts';

const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
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

type Run = {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  /** Server CPU time per request (user + system), µs: robust against a busy machine. */
  cpuUs: number;
};

/** utime + stime of a process in seconds (Linux /proc; NaN elsewhere). */
function cpuSeconds(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

async function load(
  name: string,
  server: Started,
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
  const cpuBefore = cpuSeconds(server.child.pid);
  const r = await autocannon({ ...options, connections: CONNECTIONS, duration });
  const cpu = cpuSeconds(server.child.pid) - cpuBefore;
  const run: Run = {
    name,
    rps: Math.round(r.requests.average),
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors,
    cpuUs: Math.round((cpu * 1e6) / Math.max(1, r.requests.total)),
  };
  console.log(
    `${name.padEnd(44)} ${String(run.rps).padStart(7)} req/s   p50 ${String(run.p50).padStart(3)} ms   p99 ${String(run.p99).padStart(3)} ms   CPU ${String(run.cpuUs).padStart(4)} µs/req   non-2xx ${run.non2xx}   errors ${run.errors}`,
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
  // biome-ignore lint/suspicious/noExplicitAny: the bench reads a few known fields
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
    return await load(`token create (${label})`, s, {
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
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const summary = (name: string, rs: Run[]): Run => ({
  name,
  rps: median(rs.map((r) => r.rps)),
  p50: median(rs.map((r) => r.p50)),
  p99: median(rs.map((r) => r.p99)),
  cpuUs: median(rs.map((r) => r.cpuUs)),
  non2xx: rs.reduce((a, r) => a + r.non2xx, 0),
  errors: rs.reduce((a, r) => a + r.errors, 0),
});
let base: Run;
let series: Run;
let catalog: Run;
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
  const runs: Record<'base' | 'series' | 'catalog', Run[]> = { base: [], series: [], catalog: [] };
  for (let round = 1; round <= ROUNDS; round++) {
    console.log(`round ${round}/${ROUNDS}`);
    runs.base.push(await load('  bare fastify GET /hello', hello, { url: `${hello.url}/hello` }));
    runs.series.push(
      await load('  analytics series (token auth, 60 points)', platform, {
        url: `${platform.url}/v1/analytics/metrics/requests${q}`,
        headers: auth,
      }),
    );
    runs.catalog.push(
      await load('  analytics catalogue (token auth)', platform, {
        url: `${platform.url}/v1/analytics/metrics`,
        headers: auth,
      }),
    );
  }
  base = summary('hello', runs.base);
  series = summary('series', runs.series);
  catalog = summary('catalogue', runs.catalog);
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
medians over ${ROUNDS} rounds: hello ${base.rps} req/s (p99 ${base.p99} ms), series ${series.rps} req/s (p99 ${series.p99} ms), catalogue ${catalog.rps} req/s (p99 ${catalog.p99} ms)
throughput ratio analytics/hello: series ${(series.rps / base.rps).toFixed(2)}, catalogue ${(catalog.rps / base.rps).toFixed(2)} (target ≥ 0.6)
server CPU per request: hello ${base.cpuUs} µs, series ${series.cpuUs} µs, catalogue ${catalog.cpuUs} µs (CPU ratio hello/series ${(base.cpuUs / series.cpuUs).toFixed(2)}, hello/catalogue ${(base.cpuUs / catalog.cpuUs).toFixed(2)})
p99 on SQLite: series ${series.p99} ms, catalogue ${catalog.p99} ms (target < 10 ms)
token creates: SQLite ${sqliteCreate.rps} req/s (p99 ${sqliteCreate.p99} ms), PostgreSQL ${pgCreate.rps} req/s (p99 ${pgCreate.p99} ms)`);
