/** Prometheus metrics of the operator, on a registry of its own. */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export type Metrics = ReturnType<typeof createMetrics>;

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tokenplane_operator_' });
  return {
    registry,
    reconciles: new Counter({
      name: 'tokenplane_operator_reconcile_total',
      help: 'Reconciles by kind and result (success, requeue, error)',
      labelNames: ['kind', 'result'] as const,
      registers: [registry],
    }),
    errors: new Counter({
      name: 'tokenplane_operator_reconcile_errors_total',
      help: 'Failed reconciles by kind and reason',
      labelNames: ['kind', 'reason'] as const,
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'tokenplane_operator_reconcile_duration_seconds',
      help: 'Reconcile duration by kind',
      labelNames: ['kind'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'tokenplane_operator_queue_depth',
      help: 'Keys waiting in the work queue, by kind',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    tokenExpiry: new Gauge({
      name: 'tokenplane_operator_token_expiry_timestamp_seconds',
      help: 'Expiry of each ApiToken’s current value (Unix seconds)',
      labelNames: ['namespace', 'name'] as const,
      registers: [registry],
    }),
    tokenRenewal: new Gauge({
      name: 'tokenplane_operator_token_renewal_timestamp_seconds',
      help: 'When the operator rotates each ApiToken (Unix seconds); absent for an ApiToken without a rotation policy (no `lifetime`)',
      labelNames: ['namespace', 'name'] as const,
      registers: [registry],
    }),
    tokenUsage: new Gauge({
      name: 'tokenplane_operator_token_usage_ratio',
      help: 'Share of each ApiToken’s usage limit used in the current period (0 to 1, as of its last reconcile); absent without a usageLimit',
      labelNames: ['namespace', 'name'] as const,
      registers: [registry],
    }),
    ready: new Gauge({
      name: 'tokenplane_operator_ready',
      help: '1 while an Entity or ApiToken is Ready, 0 while its Ready condition is False (the reason is on the object)',
      labelNames: ['kind', 'namespace', 'name'] as const,
      registers: [registry],
    }),
    kubeRequests: new Counter({
      name: 'tokenplane_operator_kube_requests_total',
      help: 'Requests to the Kubernetes API (watches included), by HTTP method',
      labelNames: ['method'] as const,
      registers: [registry],
    }),
    eventsDropped: new Counter({
      name: 'tokenplane_operator_events_dropped_total',
      help: 'Events not written because 1,000 were already waiting for the API server',
      registers: [registry],
    }),
    rolloutRestarts: new Counter({
      name: 'tokenplane_operator_rollout_restarts_total',
      help: 'Rollout restarts of workloads after their Secret received a new token value, by kind and outcome',
      labelNames: ['kind', 'outcome'] as const,
      registers: [registry],
    }),
    watchRestarts: new Counter({
      name: 'tokenplane_operator_watch_restarts_total',
      help: 'Watch restarts after errors or silence, by resource',
      labelNames: ['resource'] as const,
      registers: [registry],
    }),
    heapUsedRatio: new Gauge({
      name: 'tokenplane_operator_heap_used_ratio',
      help: 'V8 heap in use as a share of its limit (--max-old-space-size); a warning is logged past 0.85',
      registers: [registry],
    }),
    leader: new Gauge({
      name: 'tokenplane_operator_leader',
      help: '1 while this replica holds the leader lease',
      registers: [registry],
    }),
  };
}
