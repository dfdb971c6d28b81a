/**
 * `npm run bench:profile [catalogue|series|signed] [seconds]` — where the
 * platform's CPU goes on one hot route: a platform started with V8's
 * `--cpu-prof`, loaded by autocannon (50 connections) on loopback, stopped;
 * then the functions with the most self time (a flat flame graph), by file.
 * The .cpuprofile stays in the printed folder for Chrome's DevTools or speedscope.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { SERVE_HEAP_FLAGS } from '../platform/heap-flags.ts';
import { freshlySigned, type Started, serveWith, stop } from './servers.ts';

const ROUTES = ['catalogue', 'series', 'signed'] as const;
const route = (process.argv[2] ?? 'catalogue') as (typeof ROUTES)[number];
if (!ROUTES.includes(route)) throw new Error(`route: one of ${ROUTES.join(', ')}`);
const seconds = Number(process.argv[3] ?? 10);

async function admin(s: Started, path: string, body: object) {
  const res = await fetch(s.url + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${s.adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return (await res.json()) as { id: string; value: string };
}

const dir = mkdtempSync(join(tmpdir(), 'tokenplane-profile-'));
const s = await serveWith(
  { nodeFlags: [...SERVE_HEAP_FLAGS, '--cpu-prof', `--cpu-prof-dir=${dir}`] },
  'platform',
);
try {
  const entity = await admin(s, '/v1/entities', {
    name: 'profile',
    kind: 'customer',
    tier: 'advanced',
    defaultToken: false,
  });
  const token = await admin(s, `/v1/entities/${entity.id}/tokens`, {
    name: 'profile',
    requireSignedRequests: route === 'signed',
  });
  const to = new Date(Math.floor(Date.now() / 60_000) * 60_000);
  const from = new Date(to.getTime() - 3600_000);
  const path =
    route === 'catalogue'
      ? '/v1/analytics/metrics'
      : `/v1/analytics/metrics/requests?from=${from.toISOString()}&to=${to.toISOString()}`;
  const result = await autocannon({
    url: s.url + path,
    connections: 50,
    duration: seconds,
    ...(route === 'signed'
      ? { requests: freshlySigned(s.url, token) }
      : { headers: { authorization: `Bearer ${token.value}` } }),
  });
  console.log(`${route}: ${Math.round(result.requests.average)} req/s, non-2xx ${result.non2xx}`);
} finally {
  await stop(s);
}

type Node = {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
};
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
