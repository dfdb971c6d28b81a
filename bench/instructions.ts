/**
 * `npm run bench:instructions [catalogue|series|signed]` — instructions per
 * request of one token-authenticated route and of its baseline, as `npm run
 * bench` pairs them: bare fastify's `GET /hello` for the catalogue and the
 * series, the plain series for `signed` (the series, each request with a
 * fresh RFC 9421 signature). Each
 * server run under valgrind's callgrind. An instruction count is the same
 * from run to run (within about 1 %) however busy the machine is, where CPU
 * time per request moves by a tenth between neighbouring rounds on a shared
 * 2-vCPU VM: a change to the hot path is judged here first, then confirmed in
 * CPU by `npm run bench`. Instructions are not time: a SHA-256 in native code
 * is thousands of cheap instructions, a megamorphic property load a few slow
 * ones.
 *
 * Each server gets BENCH_WARMUP requests (30,000: the JIT settles) uncounted,
 * then BENCH_REQUESTS (8,000) counted, from autocannon in this process (50
 * connections). Prints both counts, their ratio, and the route's functions by
 * self cost beside the baseline's (Node's --perf-basic-prof names the JIT
 * frames). Needs valgrind. Collections count too, and V8 times some of them
 * (the memory reducer, idle-time marking): a server under valgrind runs some
 * fifty times slower, so its garbage collector's share reads larger than in
 * CPU time.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import { SERVE_HEAP_FLAGS } from '../platform/heap-flags.ts';
import { HOT_ROUTES, type HotRoute, hotRouteLoad, serveWith } from './servers.ts';

const route = (process.argv[2] ?? 'catalogue') as HotRoute;
if (!HOT_ROUTES.includes(route)) throw new Error(`route: one of ${HOT_ROUTES.join(', ')}`);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 30_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 8_000);
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'tokenplane-instructions-'));

type Count = { perRequest: number; selfPerRequest: Map<string, number> };

/** Instructions per request of `route` (hello: bare fastify's). */
async function count(route: HotRoute | 'hello'): Promise<Count> {
  const mode = route === 'hello' ? 'hello' : 'platform';
  const out = join(dir, `${route}.callgrind`);
  const flags =
    mode === 'platform' ? SERVE_HEAP_FLAGS : [...SERVE_HEAP_FLAGS, '--no-memory-reducer'];
  const s = await serveWith(
    {
      nodeFlags: [...flags, '--perf-basic-prof'],
      runner: [
        'valgrind',
        '-q',
        '--tool=callgrind',
        '--instr-atstart=no',
        `--callgrind-out-file=${out}`,
      ],
    },
    mode,
  ).catch((error: Error) => {
    throw new Error(`${error.message}: is valgrind installed (Debian: valgrind)?`);
  });
  const pid = String(s.child.pid);
  try {
    const request = route === 'hello' ? { url: `${s.url}/hello` } : await hotRouteLoad(s, route);
    const load = (amount: number) =>
      autocannon({ ...request, connections: 50, amount, timeout: 60 });
    await load(WARMUP);
    await run('callgrind_control', ['--instr=on', pid]);
    const measured = await load(REQUESTS);
    await run('callgrind_control', ['--instr=off', pid]);
    await run('callgrind_control', ['--dump', pid]);
    if (measured.non2xx > 0 || measured.errors > 0) {
      throw new Error(`${route}: ${measured.non2xx} non-2xx answers, ${measured.errors} errors`);
    }
    return selfCosts(`${out}.1`, `/tmp/perf-${pid}.map`, measured.requests.total);
  } finally {
    s.child.kill('SIGKILL');
    rmSync(`/tmp/perf-${pid}.map`, { force: true });
  }
}

/** Self cost per function from a callgrind dump, JIT code named through the perf map. */
function selfCosts(dump: string, perfMap: string, requests: number): Count {
  const jit = readFileSync(perfMap, 'utf8')
    .split('\n')
    .map((line) => line.split(' '))
    .filter((f) => f.length >= 3)
    .map(([start, size, ...name]) => ({
      start: Number.parseInt(start as string, 16),
      end: Number.parseInt(start as string, 16) + Number.parseInt(size as string, 16),
      name: name.join(' ').replace(/(?:file:\/\/)?\/\S*?\/(node_modules|platform|core)\//, '$1/'),
    }))
    .sort((a, b) => a.start - b.start);
  const nameOf = (symbol: string) => {
    if (!/^0x[0-9a-f]+$/.test(symbol)) return symbol.replace(/\(.*$/, '');
    const at = Number.parseInt(symbol, 16);
    const code = jit.findLast((c) => c.start <= at);
    return code && at < code.end ? code.name : 'JIT code (unnamed)';
  };
  // The format: `fn=(id) name` starts a function's lines (`cfn=` names a callee;
  // either may name an id first, `(id)` alone repeats it); `calls=` announces a
  // line that carries a callee's inclusive cost.
  const names = new Map<string, string>();
  const self = new Map<string, number>();
  let fn = '';
  let callLine = false;
  let total = 0;
  for (const line of readFileSync(dump, 'utf8').split('\n')) {
    const named = /^c?fn=\((\d+)\)(?: (.*))?$/.exec(line);
    if (named) {
      if (named[2] !== undefined) names.set(named[1] as string, nameOf(named[2]));
      if (line.startsWith('fn=')) fn = names.get(named[1] as string) ?? '?';
    } else if (line.startsWith('calls=')) callLine = true;
    else if (/^(?:[+-]?\d+|\*) \d+$/.test(line)) {
      const cost = Number(line.split(' ')[1]);
      if (!callLine) {
        self.set(fn, (self.get(fn) ?? 0) + cost);
        total += cost;
      }
      callLine = false;
    }
  }
  const perRequest = new Map([...self].map(([k, v]) => [k, v / requests]));
  return { perRequest: total / requests, selfPerRequest: perRequest };
}

const baseline = route === 'signed' ? 'series' : 'hello';
const named = (r: HotRoute | 'hello') => (r === 'hello' ? 'bare fastify GET /hello' : r);
try {
  const base = await count(baseline);
  const measured = await count(route);
  const k = (n: number) => `${(n / 1000).toFixed(1)}k`;
  console.log(`instructions per request (${WARMUP} warm-up, ${REQUESTS} counted, callgrind):`);
  console.log(`  ${named(baseline).padEnd(24)} ${k(base.perRequest)}`);
  console.log(`  ${named(route).padEnd(24)} ${k(measured.perRequest)}`);
  console.log(
    `  ${route} ÷ ${baseline}: ${(measured.perRequest / base.perRequest).toFixed(3)}` +
      ` (${baseline} ÷ ${route}: ${(base.perRequest / measured.perRequest).toFixed(3)})`,
  );
  console.log(
    `${route}'s functions by self cost above ${baseline}'s (instructions per request: ${route}, ${baseline}):`,
  );
  const excess = ([name, cost]: [string, number]) => cost - (base.selfPerRequest.get(name) ?? 0);
  const top = [...measured.selfPerRequest].sort((a, b) => excess(b) - excess(a)).slice(0, 40);
  for (const [name, cost] of top) {
    const before = base.selfPerRequest.get(name) ?? 0;
    console.log(
      `${String(Math.round(cost)).padStart(7)} ${String(Math.round(before)).padStart(7)}  ${name.slice(0, 110)}`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
