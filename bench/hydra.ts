/**
 * `npm run bench:hydra` — RFC 7662 introspection, tokenplane against Ory Hydra
 * v2.3.0 (the optional engine `hydra`, built by `npm run engines -- hydra`), same
 * run, same load generator (autocannon, 32 connections), for one hot token,
 * BENCH_HYDRA_TOKENS valid tokens (default 10k), as many unknown values, and a
 * cold set: BENCH_COLD_TOKENS (default 2000) tokens through a tokenplane
 * verification cache of 100 entries, so most look-ups miss (Hydra has no such
 * cache: its cold case is the same look-up). Reports requests per second and
 * server CPU per request of each process, and the ratios tokenplane ÷ Hydra.
 * Without the engine it says why and exits non-zero.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import autocannon, { type RequestData } from 'autocannon';
import { generateSecret } from '../core/domain/secret-format.ts';
import { requireEngines } from '../test/engines/engines.ts';
import { cpuSeconds, type Started, serve, stop } from './servers.ts';

const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = 32;
const TOKENS = Number(process.env.BENCH_HYDRA_TOKENS ?? 10_000);
const COLD_TOKENS = Number(process.env.BENCH_COLD_TOKENS ?? 2_000);
const COLD_CACHE = 100;

type Run = { rps: number; cpuUs: number; non2xx: number };
type Target = {
  pid: number | undefined;
  request: (token: () => string) => Parameters<typeof autocannon>[0];
};

async function load(t: Target, next: () => string): Promise<Run> {
  await autocannon({ ...t.request(next), connections: CONNECTIONS, duration: 2 });
  const before = cpuSeconds(t.pid);
  const r = await autocannon({ ...t.request(next), connections: CONNECTIONS, duration: DURATION });
  const cpu = cpuSeconds(t.pid) - before;
  return {
    rps: Math.round(r.requests.average),
    cpuUs: Math.round((cpu * 1e6) / Math.max(1, r.requests.total)),
    non2xx: r.non2xx,
  };
}

/** Many small requests in parallel, a few at a time (token issuance). */
async function times<T>(n: number, f: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i += 16)
    out.push(
      ...(await Promise.all(Array.from({ length: Math.min(16, n - i) }, (_, j) => f(i + j)))),
    );
  return out;
}

async function json(res: Response, what: string) {
  if (!res.ok) throw new Error(`${what}: ${res.status} ${await res.text()}`);
  // biome-ignore lint/suspicious/noExplicitAny: the bench reads a few known fields
  return res.json() as Promise<any>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.once('error', reject);
  });
}

/** Hydra on loopback: in-memory store, --dev (plain HTTP), generated system secret. */
async function startHydra(bin: string) {
  const [pub, adm] = [await freePort(), await freePort()];
  const child: ChildProcess = spawn(bin, ['serve', 'all', '--dev', '--sqa-opt-out'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      DSN: 'memory',
      SECRETS_SYSTEM: randomBytes(32).toString('hex'),
      SERVE_PUBLIC_HOST: '127.0.0.1',
      SERVE_PUBLIC_PORT: String(pub),
      SERVE_ADMIN_HOST: '127.0.0.1',
      SERVE_ADMIN_PORT: String(adm),
      URLS_SELF_ISSUER: `http://127.0.0.1:${pub}`,
      LOG_LEVEL: 'error',
      SQA_OPT_OUT: 'true',
    },
  });
  const admin = `http://127.0.0.1:${adm}`;
  const pubUrl = `http://127.0.0.1:${pub}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null)
      throw new Error(`hydra exited (${child.exitCode}) before it was ready`);
    const ok = await fetch(`${admin}/health/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (i > 300) throw new Error('hydra not ready after 30 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  const client = await json(
    await fetch(`${admin}/admin/clients`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'client_secret_basic',
      }),
    }),
    'hydra client',
  );
  const basic = Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64');
  const issue = async () =>
    (
      await json(
        await fetch(`${pubUrl}/oauth2/token`, {
          method: 'POST',
          headers: {
            authorization: `Basic ${basic}`,
            'content-type': 'application/x-www-form-urlencoded',
          },
          body: 'grant_type=client_credentials',
        }),
        'hydra token',
      )
    ).access_token as string;
  const target: Target = {
    pid: child.pid,
    request: (next) => ({
      url: `${admin}/admin/oauth2/introspect`,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      requests: [
        {
          setupRequest: (r: RequestData) => ({
            ...r,
            body: `token=${encodeURIComponent(next())}`,
          }),
        },
      ],
    }),
  };
  return { child, issue, target };
}

async function startTokenplane(cacheSize?: number) {
  if (cacheSize) process.env.BENCH_VERIFY_CACHE_SIZE = String(cacheSize);
  const s: Started = await serve('platform');
  delete process.env.BENCH_VERIFY_CACHE_SIZE;
  const admin = async (path: string, body: unknown) =>
    json(
      await fetch(s.url + path, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }),
      `POST ${path}`,
    );
  const e = await admin('/v1/entities', {
    name: 'hydra bench',
    kind: 'customer',
    tier: 'bench',
    defaultToken: false,
  });
  const issue = async () =>
    (await admin(`/v1/entities/${e.id}/tokens`, { name: 'bench' })).value as string;
  const target: Target = {
    pid: s.child.pid,
    request: (next) => ({
      url: `${s.url}/v1/introspect`,
      method: 'POST',
      headers: { authorization: `Bearer ${s.adminKey}`, 'content-type': 'application/json' },
      requests: [
        { setupRequest: (r: RequestData) => ({ ...r, body: JSON.stringify({ token: next() }) }) },
      ],
    }),
  };
  return { s, issue, target };
}

const cycle = (values: string[]) => {
  let i = 0;
  return () => values[i++ % values.length] as string;
};

async function main(): Promise<void> {
  let bin: string;
  try {
    bin = requireEngines('hydra').hydra;
  } catch (err) {
    console.error(`bench:hydra: no Hydra to compare with — ${(err as Error).message}`);
    process.exitCode = 1;
    return;
  }
  const hydra = await startHydra(bin);
  const tp = await startTokenplane();
  const cold = await startTokenplane(COLD_CACHE);
  try {
    const hv = await times(TOKENS, hydra.issue);
    const tv = await times(TOKENS, tp.issue);
    const cv = await times(COLD_TOKENS, cold.issue);
    const hydraUnknown = () =>
      `ory_at_${randomBytes(32).toString('base64url')}.${randomBytes(32).toString('base64url')}`;
    const cases: [string, Run, Run][] = [];
    const both = async (name: string, t: Target, tNext: () => string, hNext: () => string) =>
      cases.push([name, await load(t, tNext), await load(hydra.target, hNext)]);
    await both(
      'one hot token',
      tp.target,
      () => tv[0] as string,
      () => hv[0] as string,
    );
    await both(`${TOKENS} valid tokens`, tp.target, cycle(tv), cycle(hv));
    await both(
      `${TOKENS} unknown values`,
      tp.target,
      () => generateSecret('apiToken'),
      hydraUnknown,
    );
    await both(
      `cold: ${COLD_TOKENS} tokens, cache ${COLD_CACHE}`,
      cold.target,
      cycle(cv),
      cycle(hv.slice(0, COLD_TOKENS)),
    );
    console.log(
      `RFC 7662 introspection, tokenplane vs Ory Hydra v2.3.0, ${CONNECTIONS} connections, ${DURATION} s each`,
    );
    for (const [name, t, h] of cases)
      console.log(
        `  ${name.padEnd(32)} tokenplane ${t.rps} req/s ${t.cpuUs} µs/req · hydra ${h.rps} req/s ${h.cpuUs} µs/req · ` +
          `rps ratio ${(t.rps / h.rps).toFixed(2)} · CPU/req ratio ${(t.cpuUs / h.cpuUs).toFixed(2)}` +
          (t.non2xx + h.non2xx > 0 ? ` (non-2xx ${t.non2xx}/${h.non2xx})` : ''),
      );
  } finally {
    hydra.child.kill('SIGTERM');
    await stop(tp.s);
    await stop(cold.s);
  }
}

await main();
