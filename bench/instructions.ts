/**
 * `npm run bench:instructions [catalogue|series]` — instructions per request
 * of one token-authenticated route and of bare fastify's `GET /hello`, each
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
 * self cost beside bare fastify's (Node's --perf-basic-prof names the JIT
 * frames). Needs valgrind.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import { SERVE_HEAP_FLAGS } from '../platform/heap-flags.ts';
import { analyticsPath, type Started, serveWith } from './servers.ts';

const ROUTES = ['catalogue', 'series'] as const;
const route = (process.argv[2] ?? 'catalogue') as (typeof ROUTES)[number];
if (!ROUTES.includes(route)) throw new Error(`route: one of ${ROUTES.join(', ')}`);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 30_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 8_000);
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'tokenplane-instructions-'));

type Count = { perRequest: number; selfPerRequest: Map<string, number> };

/** The request autocannon repeats against a platform: a fresh token, on `route`. */
async function platformRequest(
  s: Started,
): Promise<{ url: string; headers: Record<string, string> }> {
  const admin = async (path: string, body: object) => {
    const res = await fetch(s.url + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return (await res.json()) as { id: string; value: string };
  };
  const entity = await admin('/v1/entities', {
    name: 'instructions',
    kind: 'customer',
    tier: 'advanced',
    defaultToken: false,
  });
  const token = await admin(`/v1/entities/${entity.id}/tokens`, { name: 'instructions' });
  const path = analyticsPath(route);
  return { url: s.url + path, headers: { authorization: `Bearer ${token.value}` } };
}

async function count(mode: 'hello' | 'platform'): Promise<Count> {
  const out = join(dir, `${mode}.callgrind`);
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
    const request = mode === 'hello' ? { url: `${s.url}/hello` } : await platformRequest(s);
    const load = (amount: number) =>
      autocannon({ ...request, connections: 50, amount, timeout: 60 });
    await load(WARMUP);
    await run('callgrind_control', ['--instr=on', pid]);
    const measured = await load(REQUESTS);
    await run('callgrind_control', ['--instr=off', pid]);
    await run('callgrind_control', ['--dump', pid]);
    if (measured.non2xx > 0 || measured.errors > 0) {
      throw new Error(`${mode}: ${measured.non2xx} non-2xx answers, ${measured.errors} errors`);
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

try {
  const hello = await count('hello');
  const platform = await count('platform');
  const k = (n: number) => `${(n / 1000).toFixed(1)}k`;
  console.log(`instructions per request (${WARMUP} warm-up, ${REQUESTS} counted, callgrind):`);
  console.log(`  bare fastify GET /hello  ${k(hello.perRequest)}`);
  console.log(`  ${route.padEnd(23)} ${k(platform.perRequest)}`);
  console.log(`  bare fastify ÷ ${route}: ${(hello.perRequest / platform.perRequest).toFixed(3)}`);
  console.log(
    `${route}'s functions by self cost, beside bare fastify's (instructions per request):`,
  );
  const top = [...platform.selfPerRequest].sort((a, b) => b[1] - a[1]).slice(0, 30);
  for (const [name, cost] of top) {
    const bare = hello.selfPerRequest.get(name) ?? 0;
    console.log(
      `${String(Math.round(cost)).padStart(7)} ${String(Math.round(bare)).padStart(7)}  ${name.slice(0, 110)}`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
