/**
 * Wires the operator together: leader election on a Lease; while leading,
 * informers for Entities, ApiTokens and managed Secrets feed two controllers;
 * `/metrics`, `/healthz`, `/readyz`; graceful stop that finishes in-flight work.
 */
import { hostname } from 'node:os';
import { CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { TokenplaneClient } from '../platform/client/index.ts';
import { EntityExternal, platformTiers, TokenExternal } from '../platform/external/index.ts';
import { createLogger } from '../platform/logging.ts';
import { reconcileApiToken } from './controllers/apitoken.ts';
import type { Context } from './controllers/context.ts';
import { reconcileEntity } from './controllers/entity.ts';
import { DIGEST_ANNOTATION, digest, OWNER_LABEL } from './controllers/secret.ts';
import { type ApiTokenObject, type EntityObject, GROUP, VERSION } from './crds/schemas.ts';
import { EventRecorder } from './events.ts';
import { Kube, shareDispatcher } from './kube.ts';
import { Controller } from './runtime/controller.ts';
import { startHealthServer } from './runtime/health.ts';
import { Watched } from './runtime/informer.ts';
import { LeaderElector } from './runtime/leader-election.ts';
import { createMetrics } from './runtime/metrics.ts';

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
  identity?: string;
  leaderElection?: boolean;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  resyncMs?: number;
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

type K8sObject = {
  metadata?: {
    name?: string;
    namespace?: string;
    generation?: number;
    deletionTimestamp?: unknown;
  };
};

export async function startOperator(o: OperatorOptions): Promise<RunningOperator> {
  const log = o.log ?? createLogger({ name: 'tokenplane-operator', format: 'json' });
  const identity = o.identity ?? `${hostname()}-${process.pid}`;
  shareDispatcher(o.kc);
  const metrics = createMetrics();
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
      concurrency: o.concurrency ?? 4,
      metrics,
      log,
      backoffBaseMs: o.backoffBaseMs,
      backoffMaxMs: o.backoffMaxMs,
      reconcile: (ns, name) => reconcileEntity(ctx, ns, name),
    });
    const tokenCtl = new Controller({
      kind: 'ApiToken',
      concurrency: o.concurrency ?? 4,
      metrics,
      log,
      backoffBaseMs: o.backoffBaseMs,
      backoffMaxMs: o.backoffMaxMs,
      reconcile: (ns, name) => reconcileApiToken(ctx, ns, name),
    });
    const nsPath = o.watchNamespace ? `/namespaces/${o.watchNamespace}` : '';
    const seen = new Map<string, string>();
    /** Only spec, deletion and first sight matter; our own status writes do not re-trigger. */
    const changed = (kind: string, obj: K8sObject) => {
      const key = `${kind}/${obj.metadata?.namespace}/${obj.metadata?.name}`;
      const mark = `${obj.metadata?.generation}/${obj.metadata?.deletionTimestamp ? 'd' : ''}`;
      if (seen.get(key) === mark) return false;
      seen.set(key, mark);
      return true;
    };
    const entityState = new Map<string, string>();
    const entityDependents = (e: EntityObject) => {
      const key = `${e.metadata.namespace}/${e.metadata.name}`;
      const state = JSON.stringify([
        e.status?.id,
        e.status?.tier,
        e.status?.conditions?.find((c) => c.type === 'Ready')?.status,
      ]);
      if (entityState.get(key) === state) return;
      entityState.set(key, state);
      for (const t of tokens.list(e.metadata.namespace)) {
        if (t.spec.entityRef?.name === e.metadata.name)
          tokenCtl.enqueue(t.metadata.namespace, t.metadata.name);
      }
      for (const child of entities.list(e.metadata.namespace)) {
        if (child.spec.parentRef?.name === e.metadata.name)
          entityCtl.enqueue(child.metadata.namespace, child.metadata.name);
      }
    };
    const restarts = (resource: string) => () => metrics.watchRestarts.inc({ resource });
    const common = { kc: o.kc, log, watchdogMs: o.watchdogMs, backoffBaseMs: o.backoffBaseMs };
    const entities: Watched<EntityObject> = new Watched<EntityObject>({
      ...common,
      path: `/apis/${GROUP}/${VERSION}${nsPath}/entities`,
      list: () => kube.list('entities', o.watchNamespace) as never,
      onRestart: restarts('entities'),
      handlers: {
        add: (e) => {
          changed('Entity', e);
          entityCtl.enqueue(e.metadata.namespace, e.metadata.name);
          entityDependents(e);
        },
        update: (e) => {
          if (changed('Entity', e)) entityCtl.enqueue(e.metadata.namespace, e.metadata.name);
          entityDependents(e);
        },
        delete: (e) => {
          entityState.delete(`${e.metadata.namespace}/${e.metadata.name}`);
          seen.delete(`Entity/${e.metadata.namespace}/${e.metadata.name}`);
        },
      },
    });
    const tokens: Watched<ApiTokenObject> = new Watched<ApiTokenObject>({
      ...common,
      path: `/apis/${GROUP}/${VERSION}${nsPath}/apitokens`,
      list: () => kube.list('apitokens', o.watchNamespace) as never,
      onRestart: restarts('apitokens'),
      handlers: {
        add: (t) => {
          changed('ApiToken', t);
          tokenCtl.enqueue(t.metadata.namespace, t.metadata.name);
        },
        update: (t) => {
          if (changed('ApiToken', t)) tokenCtl.enqueue(t.metadata.namespace, t.metadata.name);
        },
        delete: (t) => seen.delete(`ApiToken/${t.metadata.namespace}/${t.metadata.name}`),
      },
    });
    const core = o.kc.makeApiClient(CoreV1Api);
    const ownerOf = (s: V1Secret) => s.metadata?.labels?.[OWNER_LABEL];
    const secrets = new Watched<V1Secret & { metadata: { name: string; namespace: string } }>({
      ...common,
      path: `/api/v1${nsPath}/secrets`,
      labelSelector: MANAGED_SELECTOR,
      list: () =>
        (o.watchNamespace
          ? core.listNamespacedSecret({
              namespace: o.watchNamespace,
              labelSelector: MANAGED_SELECTOR,
            })
          : core.listSecretForAllNamespaces({ labelSelector: MANAGED_SELECTOR })) as never,
      onRestart: restarts('secrets'),
      handlers: {
        delete: (s) => {
          const owner = ownerOf(s);
          if (owner) tokenCtl.enqueue(s.metadata.namespace, owner);
        },
        update: (s) => {
          const owner = ownerOf(s);
          const value = s.data?.token
            ? Buffer.from(s.data.token, 'base64').toString('utf8')
            : undefined;
          const intact =
            value !== undefined && s.metadata?.annotations?.[DIGEST_ANNOTATION] === digest(value);
          if (owner && !intact) tokenCtl.enqueue(s.metadata.namespace, owner);
        },
      },
    });

    const ctx: Context = {
      kube,
      events: new EventRecorder(kube.events, identity, log),
      entities: new EntityExternal(client),
      tokens: new TokenExternal(client),
      tiers: platformTiers(client, o.resyncMs ?? 5 * 60_000),
      log,
      metrics,
      endpoint: o.endpoint,
      resyncMs: o.resyncMs ?? 5 * 60_000,
      entityCache: {
        get: (name, namespace) => entities.get(name, namespace),
        list: () => entities.list(),
      },
      tokenCache: { list: () => tokens.list() },
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
        log.info('controllers stopped');
      },
    };
  }

  const elector = leaderElection
    ? new LeaderElector({
        kc: o.kc,
        namespace: o.namespace ?? 'tokenplane-system',
        name: o.leaseName ?? 'tokenplane-operator',
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
    },
  };
}
