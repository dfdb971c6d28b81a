/**
 * A one-node Kubernetes cluster from the test engines, in a network namespace
 * of its own (test/harness/netns.ts): the control plane of control-plane.ts
 * started inside, then kube-scheduler, containerd (with Debian's runc and CNI
 * plugins: a bridge for Pods), a kubelet, kube-proxy (iptables) and CoreDNS
 * (cluster names only: no `forward`, so nothing is looked up outside).
 * Images come from archives (`ctr images import`), none from a registry; the
 * sandbox image is a static Go program (pause/main.go) imported under the
 * name containerd asks for. This process reaches the API server through the
 * control plane's loopback relay.
 *
 * What the kubelet changes on the host is put back by `stop()`: three sysctls,
 * its cgroups, mounts under its directory, and the folders it writes outside it.
 *
 *   const cluster = await startCluster({ images: ['dist/image/tokenplane-0.1.0.tar'] });
 *   … cluster.kubeconfigPath …
 *   await cluster.stop();
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import type { AddressInfo, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, DiscoveryV1Api, type KubeConfig } from '@kubernetes/client-node';
import { writeImageArchive } from '../../deploy/image/archive.ts';
import { cacheRoot, requireEngines } from '../engines/engines.ts';
import { atProcessEnd } from './cleanup.ts';
import {
  type ControlPlane,
  inNetns,
  loadKubeConfig,
  startControlPlane,
  unixRelay,
  writeKubeconfig,
} from './control-plane.ts';
import { createNetns, type Netns } from './netns.ts';

export const NODE_NAME = 'tokenplane-node';
const POD_CIDR = '10.244.0.0/24';
const DNS_IP = '10.0.0.10';
const SANDBOX_IMAGE = 'registry.k8s.io/pause:3.10.2';
/** Host settings the kubelet changes at start. */
const KUBELET_SYSCTLS = ['vm/overcommit_memory', 'kernel/panic', 'kernel/panic_on_oops'];
/** Folders the kubelet and the CNI plugins write whatever their configuration says. */
const HOST_FOLDERS = ['/var/lib/kubelet', '/var/log/containers', '/var/log/pods', '/var/lib/cni'];

export type Cluster = {
  /** Administrator kubeconfig for this process (through the loopback relay). */
  kubeconfigPath: string;
  kc: KubeConfig;
  netns: Netns;
  controlPlane: ControlPlane;
  /** `ctr images import` into the kubelet's namespace. */
  importImage(archive: string): void;
  /** http://127.0.0.1:<port> here, relayed to a Service's port inside (by its ClusterIP, through kube-proxy). */
  forward(namespace: string, service: string, port: number): Promise<string>;
  /** Milliseconds from the start to the node Ready. */
  readyMs: number;
  stop(): Promise<void>;
};

type Proc = { name: string; child: ChildProcess; log: string };

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Debian packages a node needs beside the engines: the OCI runtime, CNI plugins, kube-proxy's iptables, the relays' socat. */
const NODE_PACKAGES: Record<string, () => boolean> = {
  runc: () => onPath('runc'),
  'containernetworking-plugins': () => existsSync('/usr/lib/cni/bridge'),
  iptables: () => onPath('iptables'),
  socat: () => onPath('socat'),
};

function onPath(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Installs the missing ones from Debian's packages, as the engines are built on
 * first use, so that `npm test` needs nothing a fresh machine of this kind lacks.
 */
function ensureNodePackages(): void {
  const missing = Object.entries(NODE_PACKAGES)
    .filter(([, present]) => !present())
    .map(([name]) => name);
  if (missing.length === 0) return;
  const command = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (process.getuid?.() !== 0 || !onPath('apt-get')) {
    throw new Error(`a test node needs Debian's ${missing.join(', ')}: run \`${command}\` as root`);
  }
  process.stderr.write(`[node] installing ${missing.join(', ')} from Debian's packages\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-q'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  execFileSync('sh', ['-c', command], { env, stdio: ['ignore', 'ignore', 'inherit'] });
}

/** The pause program, built once per content into the engines cache. */
function pauseBinary(): string {
  const source = join(import.meta.dirname, 'pause/main.go');
  const hash = createHash('sha256').update(readFileSync(source)).digest('hex').slice(0, 12);
  const binary = join(cacheRoot(), `pause-${hash}`, 'pause');
  if (!existsSync(binary)) {
    mkdirSync(dirname(binary), { recursive: true });
    execFileSync('go', ['build', '-trimpath', '-ldflags=-s -w', '-o', binary, source], {
      env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '', GO111MODULE: 'off' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  }
  return binary;
}

function pauseImage(dir: string): string {
  const root = join(dir, 'pause-root');
  mkdirSync(root);
  execFileSync('cp', [pauseBinary(), join(root, 'pause')]);
  const archive = join(dir, 'pause.tar');
  writeImageArchive(
    {
      name: 'registry.k8s.io/pause',
      tag: '3.10.2',
      epoch: 0,
      layers: [{ root, paths: ['pause'], owner: 0, createdBy: 'test/harness/pause/main.go' }],
      config: { User: '65535:65535', Env: [], Entrypoint: ['/pause'], WorkingDir: '/', Labels: {} },
    },
    join(dir, 'pause-archive'),
    archive,
  );
  return archive;
}

function containerdConfig(dir: string): string {
  return `version = 4
root = '${dir}/containerd/root'
state = '${dir}/containerd/state'
imports = []
# NRI would listen on a host-wide socket.
disabled_plugins = ['io.containerd.nri.v1.nri']

[plugins]
  [plugins.'io.containerd.server.v1.grpc']
    address = '${dir}/containerd.sock'
  [plugins.'io.containerd.server.v1.ttrpc']
    address = '${dir}/containerd.sock.ttrpc'
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = '${SANDBOX_IMAGE}'
  [plugins.'io.containerd.cri.v1.runtime']
    restrict_oom_score_adj = true
    # Pods' network namespaces under our directory, not in the host's /run/netns.
    netns_mounts_under_state_dir = true
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
      runtime_type = 'io.containerd.runc.v2'
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
        BinaryName = '${execFileSync('sh', ['-c', 'command -v runc'], { encoding: 'utf8' }).trim()}'
    [plugins.'io.containerd.cri.v1.runtime'.cni]
      bin_dirs = ['/usr/lib/cni', '/opt/cni/bin']
      conf_dir = '${dir}/cni'
  [plugins.'io.containerd.internal.v1.opt']
    path = '${dir}/containerd/opt'
`;
}

function cniConfig(dir: string): string {
  return JSON.stringify({
    cniVersion: '1.0.0',
    name: 'tokenplane',
    plugins: [
      {
        type: 'bridge',
        bridge: 'cni0',
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: POD_CIDR }]],
          routes: [{ dst: '0.0.0.0/0' }],
          dataDir: `${dir}/cni-ipam`,
        },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  });
}

function kubeletConfig(dir: string): string {
  return JSON.stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    // This kind of machine mounts cgroup v1.
    failCgroupV1: false,
    cgroupDriver: 'cgroupfs',
    failSwapOn: false,
    containerRuntimeEndpoint: `unix://${dir}/containerd.sock`,
    // A Secret's change reaches its volume within seconds (default 1 min).
    syncFrequency: '5s',
    resolvConf: `${dir}/resolv.conf`,
    clusterDNS: [DNS_IP],
    clusterDomain: 'cluster.local',
    podLogsDir: `${dir}/pod-logs`,
    // The kubelet's API is reachable only inside the namespace.
    authentication: { anonymous: { enabled: true }, webhook: { enabled: false } },
    authorization: { mode: 'AlwaysAllow' },
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    evictionHard: {
      'memory.available': '100Mi',
      'nodefs.available': '1%',
      'imagefs.available': '1%',
    },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    registerWithTaints: [],
  });
}

function kubeProxyConfig(kubeconfig: string): string {
  return JSON.stringify({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    clientConnection: { kubeconfig },
    mode: 'iptables',
    clusterCIDR: POD_CIDR,
    hostnameOverride: NODE_NAME,
    healthzBindAddress: '127.0.0.1:10256',
    metricsBindAddress: '127.0.0.1:10249',
    // Replies between Pods on one bridge come back through the node.
    iptables: { masqueradeAll: true },
    // 0: leave the (host-wide) conntrack table size alone.
    conntrack: { maxPerCore: 0, min: 0 },
  });
}

function corefile(kubeconfig: string): string {
  return `.:53 {
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig ${kubeconfig} admin
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 30
}
`;
}

async function publishDns(kc: KubeConfig, address: string): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespacedService({
    namespace: 'kube-system',
    body: {
      metadata: { name: 'kube-dns', labels: { 'k8s-app': 'kube-dns' } },
      spec: {
        clusterIP: DNS_IP,
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
          { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
        ],
      },
    },
  });
  // CoreDNS runs beside the kubelet, not in a Pod: its endpoint is the node.
  await kc.makeApiClient(DiscoveryV1Api).createNamespacedEndpointSlice({
    namespace: 'kube-system',
    body: {
      metadata: { name: 'kube-dns-node', labels: { 'kubernetes.io/service-name': 'kube-dns' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [address], conditions: { ready: true } }],
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP' },
        { name: 'dns-tcp', port: 53, protocol: 'TCP' },
      ],
    },
  });
}

async function nodeReady(kc: KubeConfig, procs: Proc[], deadline: number): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  for (;;) {
    const dead = procs.find((p) => p.child.exitCode !== null || p.child.signalCode !== null);
    if (dead)
      throw new Error(
        `${dead.name} exited (${dead.child.exitCode ?? dead.child.signalCode}):\n${tail(dead.log)}`,
      );
    const node = await core.readNode({ name: NODE_NAME }).catch(() => undefined);
    if (node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) return;
    if (Date.now() > deadline) {
      const kubelet = procs.find((p) => p.name === 'kubelet');
      throw new Error(
        `node ${NODE_NAME} not Ready after 120 s:\n${kubelet ? tail(kubelet.log) : ''}`,
      );
    }
    await sleep(200);
  }
}

function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1]?.replace(/\\040/g, ' ') ?? '')
    .filter((point) => point.startsWith(`${dir}/`))
    .reverse();
}

/** Every process left in the kubelet's cgroups (the Pods' containers), killed. */
function killKubepods(): void {
  const pids = execFileSync(
    'sh',
    [
      '-c',
      'cat /sys/fs/cgroup/*/kubepods/cgroup.procs /sys/fs/cgroup/*/kubepods/*/cgroup.procs /sys/fs/cgroup/*/kubepods/*/*/cgroup.procs /sys/fs/cgroup/*/kubepods/*/*/*/cgroup.procs 2>/dev/null || true',
    ],
    { encoding: 'utf8' },
  );
  for (const pid of pids.split('\n').filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {}
  }
  // A killed process leaves its cgroup when it is reaped: give that a moment.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
}

/** The kubelet's cgroups (`kubepods` under every v1 hierarchy), deepest first, once empty. */
function removeKubepodsCgroups(): void {
  const remove = (path: string) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      if (entry.isDirectory()) remove(join(path, entry.name));
    }
    rmdirSync(path);
  };
  for (const hierarchy of readdirSync('/sys/fs/cgroup')) {
    const path = join('/sys/fs/cgroup', hierarchy, 'kubepods');
    if (existsSync(path)) {
      try {
        remove(path);
      } catch {
        // A cgroup with a process left in it stays; the report says so.
      }
    }
  }
}

/** The engines a node runs beside the control plane's. */
export const NODE_ENGINES = [
  'kubelet',
  'kube-scheduler',
  'kube-proxy',
  'containerd',
  'containerd-shim-runc-v2',
  'ctr',
  'coredns',
] as const;

export async function startCluster(opts: { images?: string[] } = {}): Promise<Cluster> {
  const started = Date.now();
  ensureNodePackages();
  const engines = requireEngines(...NODE_ENGINES);
  const dir = mkdtempSync(join(tmpdir(), 'tokenplane-node-'));
  const sysctls = Object.fromEntries(
    KUBELET_SYSCTLS.map((k) => [k, readFileSync(`/proc/sys/${k}`, 'utf8').trim()]),
  );
  const createdFolders = HOST_FOLDERS.filter((f) => !existsSync(f));
  const netns = createNetns();
  const procs: Proc[] = [];
  let controlPlane: ControlPlane | undefined;
  const relays: Server[] = [];

  const spawnInside = (
    name: string,
    cmd: string,
    args: string[],
    env: NodeJS.ProcessEnv = process.env,
  ): Proc => {
    const log = join(dir, `${name}.log`);
    const fd = openSync(log, 'a');
    const [command, argv] = inNetns(netns.name, cmd, args);
    const child = spawn(command, argv, {
      cwd: dir,
      detached: true,
      stdio: ['ignore', fd, fd],
      env,
    });
    closeSync(fd);
    const proc = { name, child, log };
    procs.push(proc);
    return proc;
  };
  const ctr = (...args: string[]) =>
    execFileSync(
      engines.ctr,
      ['--address', `${dir}/containerd.sock`, '--namespace', 'k8s.io', ...args],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
  const kill = async (proc: Proc) => {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
    try {
      process.kill(-(proc.child.pid as number), 'SIGTERM');
    } catch {}
    for (let i = 0; i < 50 && proc.child.exitCode === null && proc.child.signalCode === null; i++)
      await sleep(100);
    try {
      process.kill(-(proc.child.pid as number), 'SIGKILL');
    } catch {}
  };

  let stopped = false;
  /**
   * What puts the host back, synchronously, so that it also runs when the
   * process is interrupted (SIGINT/SIGTERM, through atProcessEnd): every
   * process of ours and of the Pods killed, mounts, cgroups, sysctls, the
   * namespace and folders removed.
   */
  const restoreHost = () => {
    stopped = true;
    for (const p of procs) {
      try {
        process.kill(-(p.child.pid as number), 'SIGKILL');
      } catch {}
    }
    // Shims outlive containerd on purpose; ours are the ones naming our socket.
    try {
      execFileSync('pkill', ['-KILL', '-f', `containerd-shim-runc-v2 .*${dir}`], {
        stdio: 'ignore',
      });
    } catch {}
    killKubepods();
    for (const point of mountsUnder(dir)) {
      try {
        execFileSync('umount', ['-l', point], { stdio: 'ignore' });
      } catch {}
    }
    removeKubepodsCgroups();
    for (const [key, value] of Object.entries(sysctls)) writeFileSync(`/proc/sys/${key}`, value);
    for (const relay of relays) relay.close();
    netns.remove();
    for (const folder of createdFolders) rmSync(folder, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  };
  const unregister = atProcessEnd(restoreHost);
  const stop = async () => {
    if (stopped) return;
    const byName = (name: string) => procs.find((p) => p.name === name);
    // Pods go while the kubelet still runs, so it stops their containers and volumes.
    if (controlPlane) {
      const core = loadKubeConfig(controlPlane.kubeconfigPath).makeApiClient(CoreV1Api);
      const pods = await core.listPodForAllNamespaces().catch(() => ({ items: [] }));
      await Promise.all(
        pods.items.map((p) =>
          core
            .deleteNamespacedPod({
              name: p.metadata?.name ?? '',
              namespace: p.metadata?.namespace ?? '',
              gracePeriodSeconds: 0,
            })
            .catch(() => undefined),
        ),
      );
      for (let i = 0; i < 150 && !stopped; i++) {
        const left = await core.listPodForAllNamespaces().catch(() => ({ items: [] }));
        const running = (() => {
          try {
            return ctr('tasks', 'ls', '-q').trim();
          } catch {
            return '';
          }
        })();
        if (left.items.length === 0 && running === '') break;
        await sleep(200);
      }
    }
    for (const name of ['kube-proxy', 'coredns', 'kubelet', 'kube-scheduler', 'containerd']) {
      const p = byName(name);
      if (p && !stopped) await kill(p);
    }
    if (stopped) return;
    await controlPlane?.stop();
    restoreHost();
    unregister();
  };

  try {
    netns.run('sh', ['-c', 'echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables']);
    controlPlane = await startControlPlane({ netns: { name: netns.name, address: netns.address } });
    const kc = loadKubeConfig(controlPlane.kubeconfigPath);
    const inner = join(dir, 'inner.kubeconfig');
    writeKubeconfig(inner, {
      server: controlPlane.innerServer,
      caPem: controlPlane.caPem,
      token: controlPlane.adminToken,
      user: 'admin',
    });

    mkdirSync(join(dir, 'cni'));
    writeFileSync(join(dir, 'cni/10-tokenplane.conflist'), cniConfig(dir));
    writeFileSync(join(dir, 'containerd.toml'), containerdConfig(dir));
    writeFileSync(join(dir, 'resolv.conf'), `nameserver ${DNS_IP}\nsearch cluster.local\n`);
    writeFileSync(join(dir, 'kubelet.json'), kubeletConfig(dir));
    writeFileSync(join(dir, 'kube-proxy.json'), kubeProxyConfig(inner));
    writeFileSync(join(dir, 'Corefile'), corefile(inner));

    const containerd = spawnInside(
      'containerd',
      engines.containerd,
      ['--config', join(dir, 'containerd.toml')],
      {
        ...process.env,
        PATH: `${dirname(engines['containerd-shim-runc-v2'])}:${process.env.PATH}`,
      },
    );
    for (let i = 0; !existsSync(join(dir, 'containerd.sock')); i++) {
      if (containerd.child.exitCode !== null || i > 300)
        throw new Error(`containerd did not start:\n${tail(containerd.log)}`);
      await sleep(100);
    }
    const importImage = (archive: string) => {
      ctr('images', 'import', archive);
    };
    importImage(pauseImage(dir));
    for (const image of opts.images ?? []) importImage(image);

    spawnInside('kube-scheduler', engines['kube-scheduler'], [
      `--kubeconfig=${inner}`,
      '--leader-elect=false',
      '--secure-port=0',
      '--v=1',
    ]);
    spawnInside('kubelet', engines.kubelet, [
      `--config=${join(dir, 'kubelet.json')}`,
      `--kubeconfig=${inner}`,
      `--root-dir=${join(dir, 'kubelet')}`,
      `--cert-dir=${join(dir, 'kubelet-pki')}`,
      `--hostname-override=${NODE_NAME}`,
      `--node-ip=${netns.address}`,
      '--v=1',
    ]);
    spawnInside('kube-proxy', engines['kube-proxy'], [
      `--config=${join(dir, 'kube-proxy.json')}`,
      '--v=1',
    ]);
    await publishDns(kc, netns.address);
    spawnInside('coredns', engines.coredns, ['-conf', join(dir, 'Corefile')]);
    await nodeReady(kc, procs, Date.now() + 120_000);
    const forward = async (namespace: string, service: string, port: number) => {
      const { spec } = await kc
        .makeApiClient(CoreV1Api)
        .readNamespacedService({ name: service, namespace });
      const socket = join(dir, `forward-${relays.length}.sock`);
      spawnInside(`forward-${relays.length}`, 'socat', [
        `UNIX-LISTEN:${socket},fork`,
        `TCP:${spec?.clusterIP}:${port}`,
      ]);
      for (let i = 0; !existsSync(socket) && i < 100; i++) await sleep(50);
      const relay = await unixRelay(socket);
      relays.push(relay);
      return `http://127.0.0.1:${(relay.address() as AddressInfo).port}`;
    };
    return {
      kubeconfigPath: controlPlane.kubeconfigPath,
      kc,
      netns,
      controlPlane,
      importImage,
      forward,
      readyMs: Date.now() - started,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
