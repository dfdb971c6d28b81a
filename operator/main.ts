/**
 * `tokenplane operator [--kubeconfig PATH] [--namespace NS] [--metrics-port N]`:
 * in-cluster config by default; TOKENPLANE_ENDPOINT and TOKENPLANE_API_KEY
 * reach the platform. SIGTERM/SIGINT stop gracefully (in-flight reconciles finish,
 * the lease is released).
 */
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { createLogger, type LogFormat, parseLogFormat } from '../core/logging.ts';
import { startTracing } from '../core/tracing.ts';
import { startOperator } from './operator.ts';
import { shardLeaseName } from './runtime/shard.ts';

const USAGE = `Usage: tokenplane operator [options]

Reconciles Entity and ApiToken resources (tokenplane.dev/v1alpha1) against the platform.

Options:
  --kubeconfig PATH        kubeconfig to use (default: in-cluster, then $KUBECONFIG)
  --namespace NS           namespace of the leader-election Lease (default: $POD_NAMESPACE, else the
                           kubeconfig context's namespace as kubectl uses it, else "default";
                           in a cluster, the pod's own namespace)
  --watch-namespace NS     reconcile objects of this namespace only (default: all)
  --shard-selector SEL     reconcile only the Entities and ApiTokens this label selector picks
                           (e.g. tokenplane.dev/shard=a); run one Deployment per shard, label an
                           Entity and its ApiTokens alike. Their Secrets carry the same labels.
  --lease-name NAME        name of the leader-election Lease (default tokenplane-operator, or
                           tokenplane-operator-<selector as a slug> with --shard-selector,
                           e.g. tokenplane-operator-tokenplane-dev-shard-a)
  --metrics-port N         port for /metrics, /healthz, /readyz (default 8080)
  --resync DURATION_MS     drift check interval in ms (default 300000)
  --restart-debounce MS    rollout restarts wait this long for more new values, so several
                           rotations restart each workload once (default 5000; 0 = at once)
  --concurrency N          workers per controller (default 16)
  --no-leader-election     reconcile without taking the Lease (one replica only)
  --log-format FORMAT      auto (readable on a terminal, JSON lines otherwise), pretty or json
                           (env TOKENPLANE_LOG_FORMAT; default auto)
  -h, --help               show this help

Environment: TOKENPLANE_ENDPOINT, TOKENPLANE_API_KEY (required); TOKENPLANE_LOG_LEVEL (default info).`;

/**
 * Where the Lease lives: --namespace, else $POD_NAMESPACE, else the current
 * context's namespace (in a cluster: the ServiceAccount's own), else what
 * kubectl would use, `default`.
 */
export function leaseNamespace(
  flag: string | undefined,
  env: Record<string, string | undefined>,
  kc: KubeConfig,
): string {
  return (
    flag ??
    (env.POD_NAMESPACE || undefined) ??
    (kc.getContextObject(kc.getCurrentContext())?.namespace || undefined) ??
    'default'
  );
}

function parse(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      kubeconfig: { type: 'string' },
      namespace: { type: 'string' },
      'watch-namespace': { type: 'string' },
      'shard-selector': { type: 'string' },
      'lease-name': { type: 'string' },
      'metrics-port': { type: 'string' },
      resync: { type: 'string' },
      'restart-debounce': { type: 'string' },
      concurrency: { type: 'string' },
      'no-leader-election': { type: 'boolean' },
      'lease-duration': { type: 'string' },
      'log-format': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const format: LogFormat = parseLogFormat(
    values['log-format'] ?? process.env.TOKENPLANE_LOG_FORMAT,
  );
  return { values, format };
}

export async function run(argv: string[]): Promise<void> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    console.error(`tokenplane operator: ${(error as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const { values, format } = parsed;
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const endpoint = process.env.TOKENPLANE_ENDPOINT;
  const apiKey = process.env.TOKENPLANE_API_KEY;
  if (!endpoint || !apiKey) {
    console.error('tokenplane operator: set TOKENPLANE_ENDPOINT and TOKENPLANE_API_KEY');
    process.exitCode = 2;
    return;
  }
  const kc = new KubeConfig();
  if (values.kubeconfig) kc.loadFromFile(values.kubeconfig);
  else if (process.env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
  else kc.loadFromDefault();

  const log = createLogger({
    name: 'tokenplane-operator',
    level: process.env.TOKENPLANE_LOG_LEVEL,
    format,
  });
  const namespace = leaseNamespace(values.namespace, process.env, kc);
  const leaderElection = !values['no-leader-election'];
  const shard = values['shard-selector'];
  const watching =
    (values['watch-namespace'] ?? 'all namespaces') + (shard ? ` (shard ${shard})` : '');
  const leaseName = values['lease-name'] ?? shardLeaseName('tokenplane-operator', shard);
  log.info(
    { server: kc.getCurrentCluster()?.server, watching, endpoint },
    leaderElection
      ? `watching ${watching}; leader-election Lease ${namespace}/${leaseName}`
      : `watching ${watching}; no leader election`,
  );
  const num = (text: string | undefined) => (text === undefined ? undefined : Number(text));
  const tracing = await startTracing('tokenplane-operator');
  const leaseMs = num(values['lease-duration']);
  const operator = await startOperator({
    kc,
    endpoint,
    apiKey,
    log,
    namespace,
    identity: process.env.POD_NAME,
    watchNamespace: values['watch-namespace'],
    shardSelector: shard,
    leaseName,
    leaderElection,
    metricsPort: num(values['metrics-port']),
    resyncMs: num(values.resync),
    restartDebounceMs: num(values['restart-debounce']),
    concurrency: num(values.concurrency),
    ...(leaseMs
      ? {
          leaseDurationMs: leaseMs,
          renewDeadlineMs: Math.floor(leaseMs * 0.66),
          retryPeriodMs: Math.floor(leaseMs / 5),
        }
      : {}),
  });
  const shutdown = async () => {
    await operator.stop();
    await tracing?.shutdown();
    process.exit(0);
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run(process.argv.slice(2)).catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
