// A real Kubernetes control plane for tests: etcd, kube-apiserver and
// kube-controller-manager built by `npm run engines`, on free loopback ports,
// in a temporary directory. The controller manager brings what users rely on
// in every cluster: garbage collection (owner references, foreground
// deletion), namespace deletion, Deployment → ReplicaSet rollouts. There is
// no scheduler and no kubelet: Pods are created but never run.
//
//   const cp = await startControlPlane();
//   const kc = loadKubeConfig(cp.kubeconfigPath);
//   …
//   await cp.stop();
//
// Authorization is RBAC only. The admin is a static token in `system:masters`
// (--token-auth-file). Service-account tokens are signed with an RSA key made
// here; `serviceAccountKubeconfig()` mints a kubeconfig for a ServiceAccount
// through the TokenRequest API so code can run under its own RBAC.
//
// Teardown kills the process groups and removes the directory: on `stop()`,
// on process exit, on SIGINT/SIGTERM/SIGHUP, and — through a small watchdog
// process — even when the test runner itself is killed.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:https';
import { type AddressInfo, connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { requireEngines } from '../engines/engines.ts';
import { atProcessEnd } from './cleanup.ts';
import { freePort } from './ports.ts';

export interface ControlPlane {
  /** https://127.0.0.1:<port> (with `netns`, a loopback relay to the API server inside). */
  readonly server: string;
  /** The API server's URL for processes in its own network (the same as `server` without `netns`). */
  readonly innerServer: string;
  /** Admin kubeconfig (JSON; user `admin` in `system:masters`). */
  readonly kubeconfigPath: string;
  readonly adminToken: string;
  /** PEM bundle the API server's serving certificate verifies against. */
  readonly caPem: string;
  /** Temporary directory holding data, keys, logs; removed by `stop()`. */
  readonly dir: string;
  readonly etcdUrl: string;
  /** Milliseconds from spawning etcd to the API server answering /readyz. */
  readonly apiServerReadyMs: number;
  /** Milliseconds from spawning etcd to everything ready (with the controller manager: its garbage collector at work). */
  readonly startupMs: number;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Give up when /readyz is not ok after this long (default 90 s). */
  readyTimeoutMs?: number;
  /** Extra kube-apiserver flags (`--name=value`). */
  apiServerArgs?: string[];
  /** Start kube-controller-manager too (default true). */
  controllerManager?: boolean;
  /** Keep the temporary directory after stop (for debugging; also TOKENPLANE_KEEP_KUBE_DIR=1). */
  keepDir?: boolean;
  /**
   * Run every component in this network namespace (made by the caller, see
   * test/harness/netns.ts): the API server listens on every address there and
   * advertises `address` (Pods reach it through the `kubernetes` Service), Pods
   * get service-account tokens, and this process reaches it through a relay on
   * its own loopback (a Unix socket crosses namespaces; the namespace's address
   * is never used from the host).
   */
  netns?: { name: string; address: string };
}

export const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

// --- process bookkeeping shared by every control plane of this process ---

interface Owned {
  procs: ChildProcess[];
  dir: string;
  keepDir: boolean;
  /** Network namespace every engine is started in. */
  netns?: string;
}
function killNow(o: Owned, signal: NodeJS.Signals): void {
  for (const p of o.procs) {
    if (p.pid !== undefined && p.exitCode === null && p.signalCode === null) {
      try {
        process.kill(-p.pid, signal); // the whole process group
      } catch {
        // already gone
      }
    }
  }
}

function cleanupSync(o: Owned): void {
  killNow(o, 'SIGKILL');
  if (!o.keepDir) rmSync(o.dir, { recursive: true, force: true });
}

/** A detached watchdog that kills the process groups of `procs` and removes the directory if this process dies without cleaning up. */
function startWatchdog(o: Owned, procs: ChildProcess[]): void {
  const pgids = procs.map((p) => p.pid).filter((p): p is number => p !== undefined);
  const code = `
const [ppid, dir, keep, ...pgids] = process.argv.slice(1);
const { rmSync } = require('node:fs');
const alive = (pid) => { try { process.kill(Number(pid), 0); return true; } catch { return false; } };
const timer = setInterval(() => {
  const groupsAlive = pgids.filter((g) => alive(g));
  if (groupsAlive.length === 0) { clearInterval(timer); return; }
  if (alive(ppid)) return;
  for (const g of pgids) { try { process.kill(-Number(g), 'SIGKILL'); } catch {} }
  setTimeout(() => { if (keep !== '1') rmSync(dir, { recursive: true, force: true }); }, 500);
  clearInterval(timer);
}, 1000);`;
  const w = spawn(
    process.execPath,
    ['-e', code, String(process.pid), o.dir, o.keepDir ? '1' : '0', ...pgids.map(String)],
    {
      detached: true,
      stdio: 'ignore',
    },
  );
  w.unref();
}

/** `cmd args`, in the namespace when there is one (nsenter, not `ip netns exec`, which remounts /sys). */
export function inNetns(
  netns: string | undefined,
  cmd: string,
  args: string[],
): [string, string[]] {
  return netns ? ['nsenter', [`--net=/run/netns/${netns}`, '--', cmd, ...args]] : [cmd, args];
}

function spawnEngine(o: Owned, cmd: string, args: string[], logFile: string): ChildProcess {
  const fd = openSync(logFile, 'a');
  try {
    const [command, argv] = inNetns(o.netns, cmd, args);
    const p = spawn(command, argv, { cwd: o.dir, detached: true, stdio: ['ignore', fd, fd] });
    o.procs.push(p);
    return p;
  } finally {
    closeSync(fd);
  }
}

function tail(file: string, lines = 25): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function exited(p: ChildProcess): boolean {
  return p.exitCode !== null || p.signalCode !== null;
}

async function waitExit(p: ChildProcess, ms: number): Promise<boolean> {
  if (exited(p)) return true;
  return Promise.race([
    new Promise<boolean>((resolve) => p.once('exit', () => resolve(true))),
    sleep(ms).then(() => exited(p)),
  ]);
}

function httpsGet(
  url: string,
  ca: string,
  token: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { ca, headers: { authorization: `Bearer ${token}` }, timeout: 5000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** Writes a kubeconfig (JSON is valid YAML) for one server and bearer token. */
export function writeKubeconfig(
  path: string,
  opts: { server: string; caPem: string; token: string; user: string; namespace?: string },
): void {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'tokenplane-test',
        cluster: {
          server: opts.server,
          'certificate-authority-data': Buffer.from(opts.caPem).toString('base64'),
        },
      },
    ],
    users: [{ name: opts.user, user: { token: opts.token } }],
    contexts: [
      {
        name: opts.user,
        context: {
          cluster: 'tokenplane-test',
          user: opts.user,
          ...(opts.namespace ? { namespace: opts.namespace } : {}),
        },
      },
    ],
    'current-context': opts.user,
  };
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
}

export function loadKubeConfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

async function startOnce(opts: StartOptions): Promise<ControlPlane> {
  const withControllerManager = opts.controllerManager ?? true;
  const engines = requireEngines(
    'kube-apiserver',
    'etcd',
    ...(withControllerManager ? (['kube-controller-manager'] as const) : []),
  );
  const started = Date.now();
  const owned: Owned = {
    procs: [],
    dir: mkdtempSync(join(tmpdir(), 'tokenplane-kube-')),
    keepDir: opts.keepDir ?? process.env.TOKENPLANE_KEEP_KUBE_DIR === '1',
    netns: opts.netns?.name,
  };
  let relay: Server | undefined;
  const unregister = atProcessEnd(() => cleanupSync(owned));
  const dir = owned.dir;
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // The data is thrown away, so a short grace period is enough.
    relay?.close();
    killNow(owned, 'SIGTERM');
    for (const p of owned.procs) {
      if (!(await waitExit(p, 1000))) killNow(owned, 'SIGKILL');
      await waitExit(p, 2000);
    }
    cleanupSync(owned);
    unregister();
  };

  try {
    // A namespace of our own has every port free.
    const [etcdPort, peerPort, apiPort] = opts.netns
      ? [2379, 2380, 6443]
      : [await freePort(), await freePort(), await freePort()];
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const peerUrl = `http://127.0.0.1:${peerPort}`;

    // Keys and credentials first: everything below starts at once. An EC key,
    // because an RSA one took 130 ms or more of the start-up on a loaded machine.
    const { privateKey, publicKey } = generateKeyPairSync('ec', {
      namedCurve: 'P-256',
      privateKeyEncoding: { type: 'sec1', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const saKey = join(dir, 'sa.key');
    const saPub = join(dir, 'sa.pub');
    writeFileSync(saKey, privateKey, { mode: 0o600 });
    writeFileSync(saPub, publicKey);
    const adminToken = randomBytes(24).toString('hex');
    // The controller manager's own identity, bound by the API server's bootstrap RBAC.
    const controllerManagerToken = randomBytes(24).toString('hex');
    const tokenFile = join(dir, 'tokens.csv');
    writeFileSync(
      tokenFile,
      `${adminToken},admin,admin-uid,"system:masters"\n` +
        `${controllerManagerToken},system:kube-controller-manager,kube-controller-manager-uid\n`,
      { mode: 0o600 },
    );
    const certDir = join(dir, 'certs');
    mkdirSync(certDir);

    const etcdLog = join(dir, 'etcd.log');
    const etcd = spawnEngine(
      owned,
      engines.etcd,
      [
        '--name=tokenplane',
        `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=tokenplane=${peerUrl}`,
        '--unsafe-no-fsync',
        '--log-level=warn',
      ],
      etcdLog,
    );

    // Started beside etcd, not after it: the API server retries etcd until it
    // answers, and its own second or more of setup overlaps etcd's start.
    const apiLog = join(dir, 'kube-apiserver.log');
    const api = spawnEngine(
      owned,
      engines['kube-apiserver'],
      [
        `--etcd-servers=${etcdUrl}`,
        `--cert-dir=${certDir}`,
        ...(opts.netns ? servingCert(certDir, opts.netns.address) : []),
        // Logs and exec reach the kubelet by its address: its name would be looked up outside.
        ...(opts.netns ? ['--kubelet-preferred-address-types=InternalIP'] : []),
        `--bind-address=${opts.netns ? '0.0.0.0' : '127.0.0.1'}`,
        `--advertise-address=${opts.netns?.address ?? '127.0.0.1'}`,
        `--secure-port=${apiPort}`,
        '--service-cluster-ip-range=10.0.0.0/24',
        '--authorization-mode=RBAC',
        `--token-auth-file=${tokenFile}`,
        `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
        `--service-account-key-file=${saPub}`,
        `--service-account-signing-key-file=${saKey}`,
        // Pods that run (on a node) need their service-account tokens.
        ...(opts.netns ? [] : ['--disable-admission-plugins=ServiceAccount']),
        '--allow-privileged=true',
        '--profiling=false',
        '--v=1',
        ...(opts.apiServerArgs ?? []),
      ],
      apiLog,
    );
    startWatchdog(owned, owned.procs);

    const innerServer = `https://127.0.0.1:${apiPort}`;
    let server = innerServer;
    if (opts.netns) {
      const socket = join(dir, 'apiserver.sock');
      spawnEngine(
        owned,
        'socat',
        [`UNIX-LISTEN:${socket},fork,unlink-early`, `TCP:127.0.0.1:${apiPort}`],
        join(dir, 'relay.log'),
      );
      relay = await unixRelay(socket);
      server = `https://127.0.0.1:${(relay.address() as AddressInfo).port}`;
    }
    const certFile = join(certDir, opts.netns ? 'serving.crt' : 'apiserver.crt');
    const deadline = started + (opts.readyTimeoutMs ?? 90_000);
    let caPem = '';
    let last = '';
    for (;;) {
      if (exited(api))
        throw new Error(
          `kube-apiserver exited (${api.exitCode ?? api.signalCode}):\n${tail(apiLog)}`,
        );
      if (exited(etcd))
        throw new Error(`etcd exited (${etcd.exitCode ?? etcd.signalCode}):\n${tail(etcdLog)}`);
      if (!caPem && existsSync(certFile)) {
        const pem = readFileSync(certFile, 'utf8');
        // The file is written in one go, but make sure we do not read half of it.
        if (pem.trimEnd().endsWith('-----END CERTIFICATE-----')) {
          new X509Certificate(pem);
          caPem = pem;
        }
      }
      if (caPem) {
        const res = await httpsGet(`${server}/readyz`, caPem, adminToken).catch((e: Error) => ({
          status: 0,
          body: e.message,
        }));
        if (res.status === 200) break;
        last = `${res.status} ${res.body.slice(0, 2000)}`;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `kube-apiserver not ready after ${opts.readyTimeoutMs ?? 90_000} ms (last /readyz: ${last}):\n${tail(apiLog)}\netcd:\n${tail(etcdLog, 10)}`,
        );
      }
      await sleep(50);
    }

    const apiServerReadyMs = Date.now() - started;
    const kubeconfigPath = join(dir, 'admin.kubeconfig');
    writeKubeconfig(kubeconfigPath, { server, caPem, token: adminToken, user: 'admin' });
    // The controller manager starts at /readyz, not before: started earlier, it
    // polls the API server's /healthz once a second (and gives up after 10 s),
    // which measured slower than this.
    const kcmBin = engines['kube-controller-manager'];
    if (kcmBin) {
      const kcm = spawnControllerManager(owned, kcmBin, {
        server: innerServer,
        caFile: certFile,
        caPem,
        token: controllerManagerToken,
        saKey,
      });
      await awaitGarbageCollector(kubeconfigPath, kcm, join(dir, KCM_LOG), deadline);
    }
    return {
      server,
      innerServer,
      kubeconfigPath,
      adminToken,
      caPem,
      dir,
      etcdUrl,
      apiServerReadyMs,
      startupMs: Date.now() - started,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

const KCM_LOG = 'kube-controller-manager.log';

/**
 * A serving certificate for every name the API server has in a namespace: the
 * loopback (the relay), the node's address and the `kubernetes` Service (Pods).
 * The one it makes itself when bound to every address leaves out 127.0.0.1.
 */
function servingCert(certDir: string, address: string): string[] {
  const [cert, key] = [join(certDir, 'serving.crt'), join(certDir, 'serving.key')];
  const names = [
    'kubernetes',
    'kubernetes.default',
    'kubernetes.default.svc',
    'kubernetes.default.svc.cluster.local',
    'localhost',
  ];
  const sans = [
    ...['127.0.0.1', address, '10.0.0.1'].map((ip) => `IP:${ip}`),
    ...names.map((n) => `DNS:${n}`),
  ];
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=kube-apiserver',
      '-keyout',
      key,
      '-out',
      cert,
      '-addext',
      `subjectAltName=${sans.join(',')}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,digitalSignature,keyCertSign',
    ],
    { stdio: 'ignore' },
  );
  return [`--tls-cert-file=${cert}`, `--tls-private-key-file=${key}`];
}

/** 127.0.0.1:<free port> here, piped to a Unix socket (served by socat inside the namespace). */
export async function unixRelay(socket: string): Promise<Server> {
  const relay = createServer((client) => {
    const upstream = connect(socket);
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  relay.unref();
  return relay;
}

/** kube-controller-manager with every controller, its own kubeconfig, leader election off. */
function spawnControllerManager(
  owned: Owned,
  bin: string,
  o: { server: string; caFile: string; caPem: string; token: string; saKey: string },
): ChildProcess {
  const kubeconfig = join(owned.dir, 'kube-controller-manager.kubeconfig');
  writeKubeconfig(kubeconfig, {
    server: o.server,
    caPem: o.caPem,
    token: o.token,
    user: 'system:kube-controller-manager',
  });
  const kcm = spawnEngine(
    owned,
    bin,
    [
      `--kubeconfig=${kubeconfig}`,
      '--leader-elect=false',
      '--controllers=*',
      '--secure-port=0',
      `--service-account-private-key-file=${o.saKey}`,
      // Published to every namespace as kube-root-ca.crt, which Pods' projected tokens carry.
      `--root-ca-file=${o.caFile}`,
      // Each controller under its own ServiceAccount and bootstrap role, as in a real cluster.
      '--use-service-account-credentials=true',
      // Setting those accounts up is a few hundred requests; at the default
      // 20 per second they held the start-up back by 4 s.
      '--kube-api-qps=500',
      '--kube-api-burst=1000',
      '--v=1',
    ],
    join(owned.dir, KCM_LOG),
  );
  startWatchdog(owned, [kcm]);
  return kcm;
}

/**
 * Waits until the controller manager's garbage collector works: a ConfigMap
 * owned by another is deleted with foreground propagation, which only
 * completes once the collector has deleted the dependent and released the
 * owner's `foregroundDeletion` finalizer.
 */
async function awaitGarbageCollector(
  kubeconfigPath: string,
  kcm: ChildProcess,
  kcmLog: string,
  deadline: number,
): Promise<void> {
  const core = loadKubeConfig(kubeconfigPath).makeApiClient(CoreV1Api);
  const namespace = 'default';
  const name = `tokenplane-gc-probe-${randomBytes(3).toString('hex')}`;
  const check = (): void => {
    if (exited(kcm))
      throw new Error(
        `kube-controller-manager exited (${kcm.exitCode ?? kcm.signalCode}):\n${tail(kcmLog)}`,
      );
    if (Date.now() > deadline)
      throw new Error(
        `kube-controller-manager: garbage collection not working in time:\n${tail(kcmLog)}`,
      );
  };
  // The API server creates the `default` namespace just after it turns ready.
  let owner: { metadata?: { uid?: string } } | undefined;
  while (!owner?.metadata?.uid) {
    check();
    owner = await core
      .createNamespacedConfigMap({ namespace, body: { metadata: { name } } })
      .catch(async () => {
        await sleep(50);
        return undefined;
      });
  }
  const uid = owner.metadata.uid;
  await core.createNamespacedConfigMap({
    namespace,
    body: {
      metadata: {
        name: `${name}-dependent`,
        ownerReferences: [
          { apiVersion: 'v1', kind: 'ConfigMap', name, uid, blockOwnerDeletion: true },
        ],
      },
    },
  });
  await core.deleteNamespacedConfigMap({ name, namespace, propagationPolicy: 'Foreground' });
  for (;;) {
    check();
    const gone = await core.readNamespacedConfigMap({ name, namespace }).then(
      () => false,
      (err: unknown) => (err as { code?: number }).code === 404,
    );
    if (gone) return;
    await sleep(50);
  }
}

/** Starts etcd, kube-apiserver and kube-controller-manager and waits until they work. Retries twice if a port was taken meanwhile. */
export async function startControlPlane(opts: StartOptions = {}): Promise<ControlPlane> {
  let lastErr: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      return await startOnce(opts);
    } catch (err) {
      lastErr = err;
      if (!/address already in use|bind:/i.test(String((err as Error).message))) throw err;
    }
  }
  throw lastErr;
}

export interface ServiceAccountKubeconfig {
  path: string;
  token: string;
  /** `system:serviceaccount:<namespace>:<name>` */
  username: string;
  kubeConfig: KubeConfig;
}

function isConflict(err: unknown): boolean {
  return (err as { code?: number }).code === 409;
}

/**
 * Ensures the namespace and ServiceAccount exist, requests a token for it
 * (TokenRequest API) and writes a kubeconfig that uses it. The account has
 * whatever RBAC grants it — nothing by default.
 */
export async function serviceAccountKubeconfig(
  cp: Pick<ControlPlane, 'kubeconfigPath' | 'server' | 'caPem' | 'dir'>,
  opts: { namespace: string; name: string; expirationSeconds?: number; path?: string },
): Promise<ServiceAccountKubeconfig> {
  const core = loadKubeConfig(cp.kubeconfigPath).makeApiClient(CoreV1Api);
  const { namespace, name } = opts;
  await core.createNamespace({ body: { metadata: { name: namespace } } }).catch((e: unknown) => {
    if (!isConflict(e)) throw e;
  });
  await core
    .createNamespacedServiceAccount({ namespace, body: { metadata: { name } } })
    .catch((e: unknown) => {
      if (!isConflict(e)) throw e;
    });
  const tr = await core.createNamespacedServiceAccountToken({
    name,
    namespace,
    body: { spec: { audiences: [], expirationSeconds: opts.expirationSeconds ?? 3600 } },
  });
  const token = tr.status?.token;
  if (!token) throw new Error(`TokenRequest for ${namespace}/${name} returned no token`);
  // Inside the control plane's directory, so it goes away with it.
  const path =
    opts.path ??
    join(cp.dir, `sa-${namespace}-${name}-${randomBytes(3).toString('hex')}.kubeconfig`);
  const username = `system:serviceaccount:${namespace}:${name}`;
  writeKubeconfig(path, { server: cp.server, caPem: cp.caPem, token, user: username, namespace });
  return { path, token, username, kubeConfig: loadKubeConfig(path) };
}
