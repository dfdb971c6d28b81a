/**
 * Wires the operator together: leader election on a Lease; while leading,
 * informers for Entities, ApiTokens and managed Secrets feed two controllers;
 * `/metrics`, `/healthz`, `/readyz`; graceful stop that finishes in-flight work.
 */
import { hostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { TokenplaneClient } from '../core/client/index.ts';
import { EntityExternal, platformTiers, TokenExternal } from '../core/external/index.ts';
import { watchHeap } from '../core/heap-watch.ts';
import { createLogger } from '../core/logging.ts';
import { reconcileApiToken } from './controllers/apitoken/index.ts';
import type { Context } from './controllers/context.ts';
import { reconcileEntity } from './controllers/entity.ts';
import { RolloutRestarter } from './controllers/restarts.ts';
import { type SecretView, viewSecret } from './controllers/secret.ts';
import { Triggers } from './controllers/triggers.ts';
import { type ApiTokenObject, type EntityObject, GROUP, VERSION } from './crds/schemas.ts';
import { EventRecorder } from './events.ts';
import { Kube, shareDispatcher } from './kube.ts';
import { Controller } from './runtime/controller.ts';
import { startHealthServer } from './runtime/health.ts';
import { Watched } from './runtime/informer.ts';
import { LeaderElector } from './runtime/leader-election.ts';
import { createMetrics } from './runtime/metrics.ts';
import { allOf, selectorKeys, shardLeaseName } from './runtime/shard.ts';
import { keepCustomObject } from './runtime/transforms.ts';

export type OperatorOptions = {
  kc: KubeConfig;
  endpoint: string;
  apiKey: string;
  /** Namespace of the leader-election Lease. */
  namespace?: string;
  /** Name of the Lease (default `tokenplane-operator`). */
  leaseName?: string;
  /** Watch only this namespace (default: all namespaces). */
  watchNamespace?: string;
  /**
   * Reconcile only the Entities and ApiTokens this label selector picks (one
   * shard); the Lease is then per shard unless `leaseName` is given.
   */
  shardSelector?: string;
  identity?: string;
  leaderElection?: boolean;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  resyncMs?: number;
  /** How long one reconcile may take before it stops and reports so in its status. */
  reconcileTimeoutMs?: number;
  /** Rollout restarts wait this long for more new values (default 5 s; 0 = at once). */
  restartDebounceMs?: number;
  concurrency?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  watchdogMs?: number;
  /** Port for /metrics, /healthz, /readyz; 0 picks one; -1 disables. */
  metricsPort?: number;
  metricsHost?: string;
  log?: Logger;
  /** Called if leadership is lost; the default exits the process, as a replica must not keep reconciling. */
  onLostLeadership?: () => void;
};

export type RunningOperator = {
  metricsPort: number | undefined;
  readonly isLeader: boolean;
  readonly ready: boolean;
  stop(): Promise<void>;
};

const MANAGED_SELECTOR = 'app.kubernetes.io/managed-by=tokenplane';
/**
 * Workers per controller. A reconcile mostly waits on round trips (the platform,
 * the API server): at 4 workers the operator's CPU profile was idle more than
 * half the time while 1,000 ApiTokens converged (operator/README, Benchmark).
 */
export const DEFAULT_CONCURRENCY = 16;

export async function startOperator(o: OperatorOptions): Promise<RunningOperator> {
  const log = o.log ?? createLogger({ name: 'tokenplane-operator', format: 'json' });
  const identity = o.identity ?? `${hostname()}-${process.pid}`;
  const metrics = createMetrics();
  const heap = watchHeap({
    log,
    advice:
      'raise --max-old-space-size and the memory limit together (operator/README, Sizing), ' +
      'or split the objects into shards',
    set: (ratio) => metrics.heapUsedRatio.set(ratio),
  });
  shareDispatcher(o.kc, (method) => metrics.kubeRequests.inc({ method }));
  const kube = new Kube(o.kc);
  const client = new TokenplaneClient({ endpoint: o.endpoint, apiKey: o.apiKey });
  const leaderElection = o.leaderElection ?? true;

  let active: { stop(): Promise<void>; synced(): boolean } | undefined;
  let stopped = false;

  const lead = async () => {
    const started = await startControllers();
    if (stopped) return started.stop();
    active = started;
  };

  async function startControllers() {
    const entityCtl = new Controller({
      kind: 'Entity',
      concurrency: o.concurrency ?? DEFAULT_CONCURRENCY,
      metrics,
      log,
      backoffBaseMs: o.backoffBaseMs,
      backoffMaxMs: o.backoffMaxMs,
      reconcile: (ns, name) => reconcileEntity(ctx, ns, name),
    });
    const tokenCtl = new Controller({
      kind: 'ApiToken',
      concurrency: o.concurrency ?? DEFAULT_CONCURRENCY,
      metrics,
      log,
      backoffBaseMs: o.backoffBaseMs,
      backoffMaxMs: o.backoffMaxMs,
      reconcile: (ns, name) => reconcileApiToken(ctx, ns, name),
    });
    const nsPath = o.watchNamespace ? `/namespaces/${o.watchNamespace}` : '';
    const restarts = (resource: string) => () => metrics.watchRestarts.inc({ resource });
    const common = { kc: o.kc, log, watchdogMs: o.watchdogMs, backoffBaseMs: o.backoffBaseMs };
    const triggers: Triggers = new Triggers({
      enqueueEntity: (ns, name) => entityCtl.enqueue(ns, name),
      enqueueToken: (ns, name) => tokenCtl.enqueue(ns, name),
    });
    const shard = o.shardSelector;
    const scope = { namespace: o.watchNamespace, labelSelector: shard };
    const secretSelector = allOf(MANAGED_SELECTOR, shard) as string;
    const entities: Watched<EntityObject> = new Watched<EntityObject>({
      ...common,
      path: `/apis/${GROUP}/${VERSION}${nsPath}/entities`,
      labelSelector: shard,
      list: (page) => kube.list('entities', { ...scope, ...page }) as never,
      transform: keepCustomObject,
      onRestart: restarts('entities'),
      handlers: triggers.entity,
    });
    const tokens: Watched<ApiTokenObject> = new Watched<ApiTokenObject>({
      ...common,
      path: `/apis/${GROUP}/${VERSION}${nsPath}/apitokens`,
      labelSelector: shard,
      list: (page) => kube.list('apitokens', { ...scope, ...page }) as never,
      transform: keepCustomObject,
      onRestart: restarts('apitokens'),
      handlers: triggers.token,
    });
    // Our Secrets as metadata and value digests: the cache never holds a token.
    const secrets = new Watched<SecretView>({
      ...common,
      path: `/api/v1${nsPath}/secrets`,
      labelSelector: secretSelector,
      list: (page) =>
        kube.listSecrets({ ...scope, ...page, labelSelector: secretSelector }) as never,
      transform: viewSecret,
      onRestart: restarts('secrets'),
      handlers: triggers.secret,
    });

    const events = new EventRecorder({
      api: kube.events,
      instance: identity,
      log,
      onDropped: () => metrics.eventsDropped.inc(),
    });
    const restarter = new RolloutRestarter({
      kube,
      events,
      metrics,
      windowMs: o.restartDebounceMs ?? 5000,
      now: () => new Date(),
    });
    const ctx: Context = {
      kube,
      events,
      restarts: restarter,
      entities: new EntityExternal(client),
      tokens: new TokenExternal(client),
      tiers: platformTiers(client, o.resyncMs ?? 5 * 60_000),
      log,
      metrics,
      endpoint: o.endpoint,
      resyncMs: o.resyncMs ?? 5 * 60_000,
      shardLabelKeys: shard ? selectorKeys(shard) : [],
      entityCache: { get: (name, namespace) => entities.get(name, namespace) },
      tokenCache: { get: (name, namespace) => tokens.get(name, namespace) },
      secretCache: { get: (name, namespace) => secrets.get(name, namespace) },
      tokensOf: (namespace, entity) => triggers.tokensOf(namespace, entity),
      reconcileTimeoutMs: o.reconcileTimeoutMs ?? 60_000,
      enqueueEntity: (ns, name, delay) => entityCtl.enqueue(ns, name, delay),
      enqueueToken: (ns, name, delay) => tokenCtl.enqueue(ns, name, delay),
      now: () => new Date(),
    };

    // Caches first, then workers: a reconcile must find parents and entities.
    await Promise.all([entities.start(), tokens.start(), secrets.start()]);
    entityCtl.start();
    tokenCtl.start();
    log.info('controllers started');
    return {
      synced: () => entities.synced && tokens.synced && secrets.synced,
      async stop() {
        await Promise.all([entities.stop(), tokens.stop(), secrets.stop()]);
        await Promise.all([entityCtl.stop(), tokenCtl.stop()]);
        await restarter.flush();
        // The Events of the last reconciles, if the API server takes them soon.
        await Promise.race([events.flush(), new Promise((r) => setTimeout(r, 5000).unref())]);
        log.info('controllers stopped');
      },
    };
  }

  const elector = leaderElection
    ? new LeaderElector({
        kc: o.kc,
        namespace: o.namespace ?? 'tokenplane-system',
        name: o.leaseName ?? shardLeaseName('tokenplane-operator', o.shardSelector),
        identity,
        leaseDurationMs: o.leaseDurationMs,
        renewDeadlineMs: o.renewDeadlineMs,
        retryPeriodMs: o.retryPeriodMs,
        log,
        onStartedLeading: () => {
          metrics.leader.set(1);
          lead().catch((err) => log.error({ err: String(err) }, 'controllers failed to start'));
        },
        onStoppedLeading: () => {
          metrics.leader.set(0);
          const current = active;
          active = undefined;
          void current?.stop();
          (o.onLostLeadership ?? (() => process.exit(1)))();
        },
      })
    : undefined;
  const health =
    (o.metricsPort ?? 8080) >= 0
      ? await startHealthServer(
          o.metricsPort ?? 8080,
          o.metricsHost ?? '0.0.0.0',
          metrics.registry,
          {
            healthy: () => !stopped,
            // A standby replica is ready (it is healthy and waiting); a leader once its caches are
            // filled; neither while the Lease cannot be taken for a reason a person must fix.
            ready: () => {
              if (stopped) return 'stopping';
              if (elector?.problem) return elector.problem;
              if (!(elector?.isLeader ?? true)) return true;
              return active?.synced() ? true : 'caches are not filled yet';
            },
          },
        )
      : undefined;

  const electing = elector?.run();
  if (!elector) {
    metrics.leader.set(1);
    await lead();
  }

  return {
    metricsPort: health?.port,
    get isLeader() {
      return elector ? elector.isLeader : true;
    },
    get ready() {
      return active?.synced() ?? false;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      const current = active;
      active = undefined;
      await current?.stop();
      await elector?.stop();
      await electing;
      await health?.close();
      heap.stop();
    },
  };
}
