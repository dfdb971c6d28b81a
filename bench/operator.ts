/**
 * `npm run bench:operator` — ApiTokens (5 per Advanced entity, one per entity
 * adopting the default token) on a real control plane, with the operator as a
 * child process under the deploy/ ServiceAccount and the Deployment's heap flags.
 *
 * Each run applies its objects first, with no operator running, then starts
 * the operator(s) and measures operator start → every ApiToken Ready with its
 * Secret: the operator's own throughput (install, restart or failover onto a
 * backlog), apart from how fast one client can apply objects. Per run it reports
 * reconciles per object, the operators' Kubernetes API requests and the
 * platform's requests per ApiToken, peak RSS and heap per operator, CPU seconds
 * per 1k ApiTokens of each process (operator, kube-apiserver, etcd,
 * kube-controller-manager, platform), and the load average beside it. Readiness
 * is counted from watches, not by listing (a list of 10k objects every second
 * would load the API server more than the operator does).
 *
 * Env:
 *   BENCH_ENTITIES  comma-separated sizes in entities, each its own run and namespace
 *                   (default 200; 200,1000,2000 = 1k/5k/10k ApiTokens in one run)
 *   BENCH_SHARDS    comma-separated shard counts run at the largest size (default 1;
 *                   1,2 compares two shards with one process in the same run)
 *   BENCH_TOKENS_PER_ENTITY (5), BENCH_CONCURRENCY (operator workers; default: the operator's),
 *   BENCH_RESYNC_MS (the operator's --resync; shorter than convergence shows resyncs competing)
 *   BENCH_NODE_FLAGS (the Deployment's), BENCH_TIMEOUT_S (900)
 *   BENCH_COMPILE_CACHE=0  start the operator without the compile cache the image ships
 *   BENCH_RESTART=1  then restart the operator onto the converged objects: time until each
 *                    was reconciled once, and its requests (an upgrade or failover at scale)
 *   BENCH_LOG_DIR   keep each operator's log there (operator-<lease namespace>.log)
 *   BENCH_HEAP_SNAPSHOT=1|keep  a heap snapshot of each one-process run's operator once converged,
 *                          summarized by bench/heap-summary.ts (written to the temp dir, then deleted
 *                          unless `keep`);
 *                          an operator that nears its heap limit leaves one there, kept
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import pino from 'pino';
import { GROUP, VERSION } from '../operator/crds/schemas.ts';
import { Watched } from '../operator/runtime/informer.ts';
import {
  loadKubeConfig,
  serviceAccountKubeconfig,
  startControlPlane,
} from '../test/harness/control-plane.ts';
import { freePort } from '../test/harness/ports.ts';
import { createObject, installCrds, installRbac, type Plural } from '../test/operator/install.ts';
import { summarizeHeap } from './heap-summary.ts';
import { cpuSeconds, type Started, serve, stop } from './servers.ts';

const list = (text: string) => text.split(',').map(Number).filter(Boolean);
const SIZES = list(process.env.BENCH_ENTITIES ?? '200');
const SHARDS = list(process.env.BENCH_SHARDS ?? '1');
const PER_ENTITY = Number(process.env.BENCH_TOKENS_PER_ENTITY ?? 5);
const CONCURRENCY = process.env.BENCH_CONCURRENCY;
const RESYNC_MS = process.env.BENCH_RESYNC_MS;
const LOG_DIR = process.env.BENCH_LOG_DIR;
/** '1' summarizes a snapshot of the converged operator; 'keep' also keeps the file. */
const HEAP_SNAPSHOT = process.env.BENCH_HEAP_SNAPSHOT;
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_S ?? 900) * 1000;
/** The flags deploy/deployment.yaml sets through NODE_OPTIONS. */
const NODE_FLAGS = (
  process.env.BENCH_NODE_FLAGS ?? '--max-semi-space-size=2 --max-old-space-size=192'
)
  .split(' ')
  .filter(Boolean);
/** '1': after each one-process run, a new operator onto the converged objects (restartOnto). */
const RESTART = process.env.BENCH_RESTART === '1';
/** '0' runs the operator without the image's compile cache (types stripped at start). */
const COMPILE_CACHE = process.env.BENCH_COMPILE_CACHE !== '0';
const SHARD_LABEL = 'tokenplane.dev/shard';
const MB = 2 ** 20;

type Setup = {
  admin: KubeConfig;
  /** The operator's compile cache, filled as deploy/Dockerfile fills the image's. */
  compileCache: string | undefined;
  sa: Awaited<ReturnType<typeof serviceAccountKubeconfig>>;
  platform: Started;
  /** The control plane's processes, by name. */
  engines: Record<string, number>;
};

async function main() {
  const cp = await startControlPlane();
  const platform = await serve('platform');
  try {
    const admin = loadKubeConfig(cp.kubeconfigPath);
    await installCrds(admin);
    const sa = await serviceAccountKubeconfig(cp, {
      namespace: 'tokenplane-system',
      name: 'tokenplane-operator',
    });
    const setup = {
      admin,
      sa,
      platform,
      engines: enginePids(cp.dir),
      compileCache: COMPILE_CACHE ? warmCompileCache(join(cp.dir, 'compile-cache')) : undefined,
    };
    const plan = [
      ...SIZES.map((entities) => ({ entities, shards: 1 })),
      ...SHARDS.filter((s) => s !== 1).map((shards) => ({ entities: Math.max(...SIZES), shards })),
    ];
    const results = [];
    for (const run of plan) {
      try {
        results.push(await runOnce(setup, run.entities, run.shards));
      } catch (err) {
        // One failed run (an operator that died) does not cost the others.
        console.error(`bench:operator run ${run.entities}×${run.shards} failed:`, err);
        continue;
      }
      // Each run as it ends: a long run's early sizes survive an interruption.
      console.error(`bench:operator run ${JSON.stringify(results.at(-1))}`);
    }
    console.log(JSON.stringify({ runs: results, ratios: ratios(results) }, null, 2));
  } finally {
    await stop(platform);
    await cp.stop();
  }
}

/** kube-apiserver, etcd and kube-controller-manager: the processes started with the control plane's directory. */
function enginePids(dir: string): Record<string, number> {
  const pids: Record<string, number> = {};
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (!cmdline.includes(dir)) continue;
      pids[readFileSync(`/proc/${entry}/comm`, 'utf8').trim()] = Number(entry);
    } catch {}
  }
  return pids;
}

type Objects = { entities: string[]; tokens: { entity: string; name: string; adopt: boolean }[] };

/** One size with `shards` operators (one process when 1), in its own namespace. */
async function runOnce(setup: Setup, entityCount: number, shards: number) {
  const ns = `bench-${entityCount}-${shards}`;
  const core = setup.admin.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: ns } } });
  const objects = objectsOf(entityCount);
  const applyStarted = Date.now();
  await apply(setup.admin, ns, objects, shards);
  const applySeconds = (Date.now() - applyStarted) / 1000;
  const counter = await watchReadiness(setup.admin, ns);
  const total = objects.tokens.length;
  const platformBefore = await platformRequests(setup.platform);
  const cpuBefore = processCpu(setup);
  const load = loadavg()[0] as number;
  const started = Date.now();
  const operators = await Promise.all(
    Array.from({ length: shards }, (_, i) => startOperator(setup, ns, shards > 1 ? i : undefined)),
  );
  try {
    const converged = await counter.until(total, TIMEOUT_MS);
    const seconds = (Date.now() - started) / 1000;
    const cpuAfter = processCpu(setup, operators);
    // Follow-ups (the Entity's token count) land after the last Secret: let them settle.
    await new Promise((r) => setTimeout(r, 3000));
    const metrics = await Promise.all(operators.map((o) => o.metrics()));
    const platformAfter = await platformRequests(setup.platform);
    // Before any snapshot, which needs memory of its own.
    const peakRssKb = operators.map((o) => o.peakRssKb());
    const heap = HEAP_SNAPSHOT && shards === 1 ? await operators[0]?.heapSnapshot() : null;
    const restart =
      RESTART && shards === 1
        ? await restartOnto(setup, ns, operators, { total, entities: entityCount })
        : undefined;
    const sum = (pick: (m: OperatorMetrics) => number) => metrics.reduce((s, m) => s + pick(m), 0);
    const perToken = (n: number) => +(n / total).toFixed(2);
    const cpu = Object.fromEntries(
      Object.keys(cpuAfter).map((name) => [
        name,
        +((((cpuAfter[name] ?? 0) - (cpuBefore[name] ?? 0)) * 1000) / total).toFixed(1),
      ]),
    );
    return {
      apiTokens: total,
      entities: entityCount,
      shards,
      converged,
      ready: counter.ready,
      secrets: counter.secrets,
      applySeconds,
      convergeSeconds: seconds,
      loadAverage: `${load.toFixed(1)} → ${(loadavg()[0] as number).toFixed(1)}`,
      reconcilesPerApiToken: perToken(sum((m) => m.reconciles.ApiToken ?? 0)),
      reconcilesPerEntity: +(sum((m) => m.reconciles.Entity ?? 0) / entityCount).toFixed(2),
      kubeRequestsPerApiToken: perToken(sum((m) => m.kubeTotal)),
      kubeRequestsByMethod: mergeCounts(metrics.map((m) => m.kube)),
      platformRequestsPerApiToken: perToken(
        Object.values(platformAfter).reduce((a, b) => a + b, 0) -
          Object.values(platformBefore).reduce((a, b) => a + b, 0),
      ),
      platformRequestsByRoute: diffCounts(platformAfter, platformBefore),
      cpuSecondsPer1kApiTokens: cpu,
      perOperator: operators.map((_o, i) => ({
        peakRssMB: +((peakRssKb[i] ?? 0) / 1024).toFixed(1),
        peakHeapUsedMB: +((metrics[i]?.peakHeap ?? 0) / MB).toFixed(1),
        endHeapUsedMB: +((metrics[i]?.heapUsed ?? 0) / MB).toFixed(1),
        watchRestarts: metrics[i]?.watchRestarts ?? {},
        eventsDropped: metrics[i]?.eventsDropped ?? 0,
      })),
      ...(heap ? { heapSnapshot: heap } : {}),
      ...(restart ? { restart } : {}),
      operatorConcurrency: CONCURRENCY ?? 'default',
      nodeFlags: NODE_FLAGS.join(' '),
    };
  } finally {
    counter.stop();
    await Promise.all(operators.map((o) => o.stop()));
  }
}

/**
 * A new operator onto the converged objects (an upgrade, a failover): the time
 * until it has reconciled every Entity and ApiToken once, and what that cost —
 * its Kubernetes requests by method (nothing to write: watches and lists are
 * GETs, the Lease PUTs), the platform's requests and each process's CPU.
 */
async function restartOnto(
  setup: Setup,
  ns: string,
  operators: Awaited<ReturnType<typeof startOperator>>[],
  counts: { total: number; entities: number },
) {
  await Promise.all(operators.splice(0).map((o) => o.stop()));
  const platformBefore = await platformRequests(setup.platform);
  const cpuBefore = processCpu(setup);
  const started = Date.now();
  const operator = await startOperator(setup, ns, undefined);
  operators.push(operator); // stopped by the caller
  let metrics = await operator.metrics().catch(() => undefined);
  while (
    (metrics?.reconciles.ApiToken ?? 0) < counts.total ||
    (metrics?.reconciles.Entity ?? 0) < counts.entities
  ) {
    if (Date.now() - started > TIMEOUT_MS) break;
    await new Promise((r) => setTimeout(r, 250));
    metrics = await operator.metrics().catch(() => undefined);
  }
  const seconds = (Date.now() - started) / 1000;
  const cpuAfter = processCpu(setup, [operator]);
  const platformAfter = await platformRequests(setup.platform);
  return {
    secondsToReconcileAll: seconds,
    reconciled: { ApiToken: metrics?.reconciles.ApiToken, Entity: metrics?.reconciles.Entity },
    kubeRequestsByMethod: metrics?.kube,
    platformRequestsByRoute: diffCounts(platformAfter, platformBefore),
    cpuSeconds: Object.fromEntries(
      Object.keys(cpuAfter).map((k) => [k, +((cpuAfter[k] ?? 0) - (cpuBefore[k] ?? 0)).toFixed(1)]),
    ),
    peakRssMB: +(operator.peakRssKb() / 1024).toFixed(1),
  };
}

function objectsOf(entityCount: number): Objects {
  const entities = Array.from({ length: entityCount }, (_, i) => `customer-${i}`);
  const tokens = entities.flatMap((entity) =>
    Array.from({ length: PER_ENTITY }, (_, j) => ({
      entity,
      name: `${entity}-t${j}`,
      adopt: j === 0,
    })),
  );
  return { entities, tokens };
}

/** Creates every Entity, then every ApiToken (16 at a time); shard labels go by entity. */
async function apply(admin: KubeConfig, ns: string, objects: Objects, shards: number) {
  const custom = admin.makeApiClient(CustomObjectsApi);
  const shardOf = (entity: string) =>
    shards > 1 ? { [SHARD_LABEL]: `s${Number(entity.split('-')[1]) % shards}` } : undefined;
  const create = (plural: Plural, kind: string, name: string, entity: string, spec: object) =>
    createObject(custom, ns, { plural, kind, name, spec, labels: shardOf(entity) });
  await pool(objects.entities, 16, (name) =>
    create('entities', 'Entity', name, name, { kind: 'Customer', tier: 'Advanced' }),
  );
  await pool(objects.tokens, 16, (t) =>
    create('apitokens', 'ApiToken', t.name, t.entity, {
      entityRef: { name: t.entity },
      adoptDefaultToken: t.adopt,
    }),
  );
}

async function pool<T>(items: T[], width: number, fn: (item: T) => Promise<unknown>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

type Flag = { metadata: { name: string; namespace?: string; resourceVersion?: string } };

/**
 * Counts Ready ApiTokens and managed Secrets from two watches (the operator's
 * own informer), and says when both reach a number.
 */
async function watchReadiness(admin: KubeConfig, ns: string) {
  const readyNames = new Set<string>();
  const secretNames = new Set<string>();
  let wake = () => {};
  const log = pino({ level: 'warn' });
  const keep = (obj: KubernetesObject) => ({
    metadata: {
      name: obj.metadata?.name ?? '',
      namespace: obj.metadata?.namespace,
      resourceVersion: obj.metadata?.resourceVersion,
      ready: (
        obj as { status?: { conditions?: { type: string; status: string }[] } }
      ).status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    },
  });
  const track = (into: Set<string>, count: (o: ReturnType<typeof keep>) => boolean) => {
    const seen = (o: Flag) => {
      if (count(o as ReturnType<typeof keep>)) into.add(o.metadata.name);
      else into.delete(o.metadata.name);
      wake();
    };
    return { add: seen, update: seen, delete: (o: Flag) => into.delete(o.metadata.name) };
  };
  const custom = admin.makeApiClient(CustomObjectsApi);
  const core = admin.makeApiClient(CoreV1Api);
  const selector = 'app.kubernetes.io/managed-by=tokenplane';
  const tokens = new Watched<Flag>({
    kc: admin,
    log,
    path: `/apis/${GROUP}/${VERSION}/namespaces/${ns}/apitokens`,
    list: (page) =>
      custom.listNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: ns,
        plural: 'apitokens',
        limit: page.limit,
        _continue: page.continue,
      }) as never,
    transform: keep,
    handlers: track(readyNames, (o) => o.metadata.ready === true),
  });
  const secrets = new Watched<Flag>({
    kc: admin,
    log,
    path: `/api/v1/namespaces/${ns}/secrets`,
    labelSelector: selector,
    list: (page) =>
      core.listNamespacedSecret({
        namespace: ns,
        labelSelector: selector,
        limit: page.limit,
        _continue: page.continue,
      }) as never,
    transform: keep,
    handlers: track(secretNames, () => true),
  });
  await Promise.all([tokens.start(), secrets.start()]);
  return {
    get ready() {
      return readyNames.size;
    },
    get secrets() {
      return secretNames.size;
    },
    /** True once `n` ApiTokens are Ready with `n` Secrets; false after `timeoutMs`. */
    async until(n: number, timeoutMs: number): Promise<boolean> {
      const deadline = Date.now() + timeoutMs;
      while (readyNames.size < n || secretNames.size < n) {
        if (Date.now() > deadline) return false;
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 1000);
        });
      }
      return true;
    },
    stop() {
      void tokens.stop();
      void secrets.stop();
    },
  };
}

type OperatorMetrics = {
  reconciles: Record<string, number>;
  watchRestarts: Record<string, number>;
  eventsDropped: number;
  kube: Record<string, number>;
  kubeTotal: number;
  heapUsed: number;
  peakHeap: number;
};

/** One operator process; shard `i` selects `tokenplane.dev/shard=s<i>` and leads on a Lease of its own. */
async function startOperator(setup: Setup, ns: string, shard: number | undefined) {
  const leaseNs = shard === undefined ? ns : `${ns}-lease-${shard}`;
  if (shard !== undefined) {
    await setup.admin
      .makeApiClient(CoreV1Api)
      .createNamespace({ body: { metadata: { name: leaseNs } } });
  }
  await installRbac(leaseNs, setup.admin);
  const metricsPort = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...NODE_FLAGS,
      ...(HEAP_SNAPSHOT
        ? [
            '--heapsnapshot-signal=SIGUSR2',
            // An operator that runs out of heap leaves one snapshot behind (kept) to say why.
            '--heapsnapshot-near-heap-limit=1',
            `--diagnostic-dir=${tmpdir()}`,
          ]
        : []),
      new URL('../operator/main.ts', import.meta.url).pathname,
      '--kubeconfig',
      setup.sa.path,
      '--namespace',
      leaseNs,
      '--lease-name',
      'tokenplane-operator',
      '--watch-namespace',
      ns,
      '--metrics-port',
      String(metricsPort),
      ...(shard === undefined ? [] : ['--shard-selector', `${SHARD_LABEL}=s${shard}`]),
      ...(CONCURRENCY ? ['--concurrency', CONCURRENCY] : []),
      ...(RESYNC_MS ? ['--resync', RESYNC_MS] : []),
    ],
    {
      env: {
        ...process.env,
        ...(setup.compileCache ? { NODE_COMPILE_CACHE: setup.compileCache } : {}),
        TOKENPLANE_ENDPOINT: setup.platform.url,
        TOKENPLANE_API_KEY: setup.platform.adminKey,
      },
      stdio: [
        'ignore',
        LOG_DIR ? openSync(join(LOG_DIR, `operator-${leaseNs}.log`), 'w') : 'ignore',
        'inherit',
      ],
    },
  );
  const pid = child.pid as number;
  const url = `http://127.0.0.1:${metricsPort}`;
  let peakHeap = 0;
  const heapSampler = setInterval(async () => {
    const text = await fetch(`${url}/metrics`).then(
      (r) => r.text(),
      () => '',
    );
    peakHeap = Math.max(peakHeap, gauge(text, 'tokenplane_operator_nodejs_heap_size_used_bytes'));
  }, 1000);
  return {
    child,
    pid,
    peakRssKb: () => statusKb(pid, 'VmHWM'),
    async metrics(): Promise<OperatorMetrics> {
      const text = await (await fetch(`${url}/metrics`)).text();
      const kube = countsOf(text, 'tokenplane_operator_kube_requests_total', 'method');
      const heapUsed = gauge(text, 'tokenplane_operator_nodejs_heap_size_used_bytes');
      return {
        reconciles: countsOf(text, 'tokenplane_operator_reconcile_total', 'kind'),
        watchRestarts: countsOf(text, 'tokenplane_operator_watch_restarts_total', 'resource'),
        eventsDropped: gauge(text, 'tokenplane_operator_events_dropped_total'),
        kube,
        kubeTotal: Object.values(kube).reduce((a, b) => a + b, 0),
        heapUsed,
        peakHeap: Math.max(peakHeap, heapUsed),
      };
    },
    /** A heap snapshot of the converged operator, summarized (and deleted); null if none came. */
    async heapSnapshot() {
      child.kill('SIGUSR2');
      await new Promise((r) => setTimeout(r, 1000));
      // The snapshot is written on the operator's main thread: it answers again once done.
      const answered = await fetch(`${url}/metrics`).then(
        () => true,
        () => false,
      );
      if (!answered) return null;
      const name = readdirSync(tmpdir()).find(
        (f) => f.startsWith('Heap.') && f.includes(`.${pid}.`) && f.endsWith('.heapsnapshot'),
      );
      if (!name) return null;
      const path = join(tmpdir(), name);
      try {
        return { ...summarizeHeap(path, 25), ...(HEAP_SNAPSHOT === 'keep' ? { path } : {}) };
      } finally {
        if (HEAP_SNAPSHOT !== 'keep') rmSync(path, { force: true });
      }
    },
    async stop() {
      clearInterval(heapSampler);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function warmCompileCache(dir: string): string {
  const script = new URL('../deploy/compile-cache.js', import.meta.url).pathname;
  execFileSync(process.execPath, [script], { env: { ...process.env, NODE_COMPILE_CACHE: dir } });
  return dir;
}

function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(status.match(new RegExp(`${field}:\\s+(\\d+)`))?.[1] ?? 0);
}

function gauge(metrics: string, name: string): number {
  return Number(metrics.match(new RegExp(`^${name} (\\S+)`, 'm'))?.[1] ?? 0);
}

/** A Prometheus counter summed by its labels' values (joined by a space). */
function countsOf(metrics: string, name: string, ...labels: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const key = labels
      .map((label) => line.match(new RegExp(`${label}="([^"]*)"`))?.[1] ?? '?')
      .join(' ');
    counts[key] = (counts[key] ?? 0) + Number(line.split(' ').pop());
  }
  return counts;
}

function mergeCounts(all: Record<string, number>[]): Record<string, number> {
  const merged: Record<string, number> = {};
  for (const counts of all)
    for (const [k, v] of Object.entries(counts)) merged[k] = (merged[k] ?? 0) + v;
  return merged;
}

function diffCounts(after: Record<string, number>, before: Record<string, number>) {
  return Object.fromEntries(
    Object.entries(after)
      .map(([k, v]) => [k, v - (before[k] ?? 0)] as const)
      .filter(([, v]) => v > 0),
  );
}

/** The platform's requests so far, by method and route (its own /metrics, not counted). */
async function platformRequests(platform: Started): Promise<Record<string, number>> {
  const text = await (await fetch(`${platform.url}/metrics`)).text();
  const counts = countsOf(text, 'tokenplane_http_requests_total', 'method', 'route');
  return Object.fromEntries(Object.entries(counts).filter(([key]) => !key.endsWith(' /metrics')));
}

/** CPU seconds so far of the control plane's processes, the platform and the operators. */
function processCpu(setup: Setup, operators: { pid: number }[] = []): Record<string, number> {
  const cpu: Record<string, number> = { operator: 0 };
  for (const o of operators) cpu.operator = (cpu.operator ?? 0) + cpuSeconds(o.pid);
  for (const [name, pid] of Object.entries(setup.engines)) {
    if (name.startsWith('kube-') || name === 'etcd') cpu[name] = cpuSeconds(pid);
  }
  cpu.platform = cpuSeconds(setup.platform.child.pid);
  return cpu;
}

type Run = Awaited<ReturnType<typeof runOnce>>;

/** Same-run ratios: each size against the smallest, and shards against one process at that size. */
function ratios(runs: Run[]) {
  const single = runs.filter((r) => r.shards === 1);
  const base = [...single].sort((a, b) => a.apiTokens - b.apiTokens)[0];
  const per1k = (r: Run) => r.convergeSeconds / (r.apiTokens / 1000);
  return {
    sizes: base
      ? single.map((r) => ({
          apiTokens: r.apiTokens,
          secondsPer1k: +per1k(r).toFixed(1),
          timeVsSmallest: +(r.convergeSeconds / base.convergeSeconds).toFixed(2),
          sizeVsSmallest: +(r.apiTokens / base.apiTokens).toFixed(2),
          peakRssMB: r.perOperator[0]?.peakRssMB,
        }))
      : [],
    shards: runs
      .filter((r) => r.shards > 1)
      .map((r) => {
        const one = single.find((s) => s.apiTokens === r.apiTokens);
        return {
          apiTokens: r.apiTokens,
          shards: r.shards,
          timeVsOneProcess: one ? +(r.convergeSeconds / one.convergeSeconds).toFixed(2) : null,
        };
      }),
  };
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
