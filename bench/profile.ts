/**
 * `npm run bench:profile [catalogue|series|signed] [seconds]` — where the
 * platform's CPU goes on one hot route: a platform loaded by autocannon (50
 * connections) on loopback, then the functions with the most self time (a
 * flat flame graph).
 *
 * By default V8's `--cpu-prof`: JavaScript frames by file, and a .cpuprofile
 * in the printed folder for Chrome's DevTools or speedscope. It puts the
 * whole socket write in one native frame and sees nothing of the kernel.
 * `BENCH_PROFILER=perf` samples the server with Linux `perf record -g` instead
 * (Node's `--perf-basic-prof` names the JIT frames): kernel, V8 builtins and
 * JavaScript side by side, and the share of each — how the catalogue's gap to
 * bare fastify was taken apart (README "Benchmarks"). It needs `perf` and the
 * right to sample another process.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import { SERVE_HEAP_FLAGS } from '../platform/heap-flags.ts';
import { HOT_ROUTES, type HotRoute, hotRouteLoad, serveWith, stop } from './servers.ts';

const route = (process.argv[2] ?? 'catalogue') as HotRoute;
if (!HOT_ROUTES.includes(route)) throw new Error(`route: one of ${HOT_ROUTES.join(', ')}`);
const seconds = Number(process.argv[3] ?? 10);

const usePerf = process.env.BENCH_PROFILER === 'perf';
const dir = mkdtempSync(join(tmpdir(), 'tokenplane-profile-'));
const perfData = join(dir, 'perf.data');
const s = await serveWith(
  {
    nodeFlags: [
      ...SERVE_HEAP_FLAGS,
      ...(usePerf ? ['--perf-basic-prof'] : ['--cpu-prof', `--cpu-prof-dir=${dir}`]),
    ],
  },
  'platform',
);
try {
  const load = autocannon({
    ...(await hotRouteLoad(s, route)),
    connections: 50,
    duration: seconds,
  });
  // perf samples the load from its second second to its second-to-last (the first warms the JIT).
  if (usePerf) await perfRecord(s.child.pid ?? 0, Math.max(1, seconds - 2));
  const result = await load;
  console.log(`${route}: ${Math.round(result.requests.average)} req/s, non-2xx ${result.non2xx}`);
} finally {
  await stop(s);
}

if (usePerf) {
  await perfReport();
  // --perf-basic-prof's symbol map, which perf report has read.
  rmSync(`/tmp/perf-${s.child.pid}.map`, { force: true });
} else cpuProfileReport();

async function perfRecord(pid: number, secs: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    setTimeout(() => {
      const perf = spawn(
        'perf',
        [
          'record',
          '-F',
          '999',
          '-g',
          '-p',
          String(pid),
          '-o',
          perfData,
          '--',
          'sleep',
          String(secs),
        ],
        { stdio: ['ignore', 'ignore', 'inherit'] },
      );
      perf.on('error', (error) =>
        reject(
          new Error(
            `perf could not start (${error.message}): install Linux perf (Debian: linux-perf), or unset BENCH_PROFILER for V8's --cpu-prof`,
          ),
        ),
      );
      perf.on('exit', (code) =>
        code === 0
          ? resolve()
          : reject(
              new Error(
                `perf record exited with ${code}: sampling another process needs root or kernel.perf_event_paranoid ≤ 1 (sysctl), or unset BENCH_PROFILER for V8's --cpu-prof`,
              ),
            ),
      );
    }, 1000);
  });
}

async function perfReport(): Promise<void> {
  const { stdout } = await promisify(execFile)(
    'perf',
    ['report', '-i', perfData, '--stdio', '--no-children', '-g', 'none', '--sort', 'dso,sym'],
    { maxBuffer: 64 << 20 },
  );
  const rows = stdout
    .split('\n')
    .map((line) => /^\s*([\d.]+)%\s+(\S+(?: tid \d+)?)\s+\[.\]\s+(.*)$/.exec(line))
    .filter((m) => m !== null)
    .map((m) => ({ share: Number(m[1]), dso: m[2] as string, symbol: (m[3] as string).trim() }));
  const kind = (dso: string) =>
    dso === '[kernel.kallsyms]'
      ? 'kernel'
      : dso.startsWith('[JIT]')
        ? 'JavaScript (JIT)'
        : dso === 'node'
          ? 'V8 and Node (native)'
          : 'libraries';
  const kinds = new Map<string, number>();
  for (const r of rows) kinds.set(kind(r.dso), (kinds.get(kind(r.dso)) ?? 0) + r.share);
  console.log(`CPU samples by kind (${perfData}):`);
  for (const [k, share] of [...kinds].sort((a, b) => b[1] - a[1])) {
    console.log(`${share.toFixed(1).padStart(5)} %  ${k}`);
  }
  console.log('self time, top 25:');
  for (const r of rows.slice(0, 25)) {
    console.log(
      `${r.share.toFixed(1).padStart(5)} %  ${kind(r.dso).padEnd(20)}  ${r.symbol.slice(0, 110)}`,
    );
  }
}

type Node = {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
};
function cpuProfileReport(): void {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no profile in ${dir}`);
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nodes: Node[] };
  const total = profile.nodes.reduce((a, n) => a + n.hitCount, 0);
  const byFrame = new Map<string, number>();
  for (const n of profile.nodes) {
    const where = n.callFrame.url.replace(/^file:\/\/.*?\/(node_modules|platform|core)\//, '$1/');
    const key = `${n.callFrame.functionName || '(anonymous)'}  ${where || '(native)'}:${n.callFrame.lineNumber + 1}`;
    byFrame.set(key, (byFrame.get(key) ?? 0) + n.hitCount);
  }
  console.log(`self time, top 25 of ${total} samples (${join(dir, file)}):`);
  for (const [key, hits] of [...byFrame].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
    console.log(`${((100 * hits) / total).toFixed(1).padStart(5)} %  ${key}`);
  }
}
