/**
 * Bench servers in their own processes (bench/platform-server.ts), so the load
 * generator and the server under test never share a thread, and their CPU time.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import type { Options, RequestData } from 'autocannon';
import { signRequest } from '../core/crypto/http-signatures.ts';
import { SERVE_HEAP_FLAGS } from '../platform/heap-flags.ts';

export type Started = { url: string; adminKey?: string; child: ChildProcess };

/**
 * The bare fastify baseline's Node flags. It idles for a minute between its
 * runs while the platforms are measured, and V8's memory reducer then shrinks
 * its heap for good: the same /hello cost 35–44 µs of CPU per request after
 * that instead of 28–32 (V8's --trace-gc shows the "Mark-Compact (reduce)"),
 * so the baseline read dearer in the later rounds. The platforms' heaps were
 * not reduced in the same runs (their RSS held), so the baseline is kept as
 * they are.
 */
const BASELINE_FLAGS = [...SERVE_HEAP_FLAGS, '--no-memory-reducer'];

/**
 * Starts `platform-server.ts <args>` and waits for its `{url, adminKey?}` line.
 * A platform runs with the heap flags of `tokenplane serve`, as shipped; the
 * bare fastify server with the same flags and without V8's memory reducer.
 */
export function serve(...args: string[]): Promise<Started> {
  return serveWith({}, ...args);
}

/**
 * `serve` with these Node flags (none: V8's defaults) or variables added to
 * its environment, or Node run by another program (`runner`: valgrind …).
 */
export async function serveWith(
  o: { nodeFlags?: readonly string[]; env?: Record<string, string>; runner?: readonly string[] },
  ...args: string[]
): Promise<Started> {
  const nodeFlags = o.nodeFlags ?? (args[0] === 'platform' ? SERVE_HEAP_FLAGS : BASELINE_FLAGS);
  const [command, ...runnerArgs] = [...(o.runner ?? []), process.execPath];
  const child = spawn(
    command as string,
    [
      ...runnerArgs,
      ...nodeFlags,
      new URL('./platform-server.ts', import.meta.url).pathname,
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...o.env } },
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

export async function stop(s: Started): Promise<void> {
  const exited = new Promise((resolve) => s.child.once('exit', resolve));
  s.child.kill('SIGTERM');
  await exited;
}

/** The catalogue's path, or the series' for the last whole hour (60 points). */
export function analyticsPath(route: string): string {
  if (route === 'catalogue') return '/v1/analytics/metrics';
  const to = new Date(Math.floor(Date.now() / 60_000) * 60_000);
  const from = new Date(to.getTime() - 3600_000);
  return `/v1/analytics/metrics/requests?from=${from.toISOString()}&to=${to.toISOString()}`;
}

/** utime + stime of a process in seconds (Linux /proc; NaN elsewhere). */
export function cpuSeconds(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** Resident set size of a process in MB (Linux /proc; NaN elsewhere). */
export function rssMb(pid: number | undefined): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024);
  } catch {
    return Number.NaN;
  }
}

/** Samples a process's RSS every 250 ms until stopped; returns the highest seen, MB. */
export function watchRss(pid: number | undefined): { stop(): number } {
  let peak = rssMb(pid);
  const timer = setInterval(() => {
    peak = Math.max(peak, rssMb(pid));
  }, 250);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, rssMb(pid));
    },
  };
}

/** The V8 heap of a platform server, from its /metrics (prom-client's default metrics), MB. */
export async function heapMb(s: Started): Promise<{ total: number; used: number }> {
  const text = await (await fetch(`${s.url}/metrics`)).text();
  const read = (name: string) =>
    Math.round(Number(new RegExp(`^tokenplane_${name} (\\S+)`, 'm').exec(text)?.[1]) / 1048576);
  return { total: read('nodejs_heap_size_total_bytes'), used: read('nodejs_heap_size_used_bytes') };
}

/**
 * autocannon requests that each carry a fresh RFC 9421 signature by `token`
 * (each signature is accepted once), made by the load generator.
 */
export function freshlySigned(base: string, token: { id: string; value: string }) {
  return [
    {
      setupRequest: (r: RequestData) => ({
        ...r,
        headers: {
          ...r.headers,
          ...signRequest(
            { method: 'GET', url: base + r.path },
            { keyId: token.id, key: token.value },
          ),
        },
      }),
    },
  ];
}

/** A route that `bench:profile` and `bench:instructions` load. */
export type HotRoute = 'catalogue' | 'series' | 'signed';
export const HOT_ROUTES: readonly HotRoute[] = ['catalogue', 'series', 'signed'];

/**
 * What autocannon repeats on `route` of a platform: a new token of a new
 * Advanced customer, sent as a bearer value, or (signed: the series) a token
 * that requires signed requests, with a fresh signature on each request.
 */
export async function hotRouteLoad(s: Started, route: HotRoute): Promise<Options> {
  const admin = async (path: string, body: object) => {
    const res = await fetch(s.url + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return (await res.json()) as { id: string; value: string };
  };
  const entity = await admin('/v1/entities', {
    name: `bench ${route}`,
    kind: 'customer',
    tier: 'advanced',
    defaultToken: false,
  });
  const token = await admin(`/v1/entities/${entity.id}/tokens`, {
    name: `bench ${route}`,
    requireSignedRequests: route === 'signed',
  });
  const url = s.url + analyticsPath(route);
  return route === 'signed'
    ? { url, requests: freshlySigned(s.url, token) }
    : { url, headers: { authorization: `Bearer ${token.value}` } };
}

/**
 * A loopback OTLP/HTTP receiver that accepts every export and keeps only
 * counts: where a traced server under test sends its spans (the bench's
 * tracing cost), so nothing leaves the machine.
 */
export async function startOtlpSink(): Promise<{
  endpoint: string;
  exports: () => number;
  bytes: () => number;
  close(): Promise<void>;
}> {
  let exports = 0;
  let bytes = 0;
  const server = createServer((req, res) => {
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    req.on('end', () => {
      exports++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    exports: () => exports,
    bytes: () => bytes,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
