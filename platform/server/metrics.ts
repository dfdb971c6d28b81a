/** Prometheus metrics of one platform instance (its own registry, so tests can run several). */
import { getHeapStatistics } from 'node:v8';
import { Counter, collectDefaultMetrics, Gauge, type Metric, Registry } from 'prom-client';
import { PairMap } from './pair-map.ts';

type Labels = Record<string, string>;
/** A sample as prom-client's registry reads it from a metric's get(). */
type Sample = { value: number; labels: Record<string, string | number>; metricName?: string };

/**
 * A counter or histogram of every request's path, counted in plain numbers.
 * prom-client's labelled children validate and hash their labels again on each
 * inc and observe: measured beside a bare fastify route, the request metrics
 * cost every request about 10 µs that way, a sixth of a token-authenticated
 * catalogue request. Registered as a prom-client metric (name, help, type,
 * get), so /metrics reads the same series as before.
 */
abstract class HotMetric<S> {
  abstract readonly type: 'counter' | 'histogram';
  readonly aggregator = 'sum';
  /** Not readonly: the registry renames counters when it writes OpenMetrics. */
  name: string;
  readonly help: string;
  readonly #series = new Map<string, S>();

  constructor(name: string, help: string, registry: Registry) {
    this.name = name;
    this.help = help;
    registry.registerMetric(this as unknown as Metric);
  }

  /** The series of these labels under `key` (unique per label set), made on first use. */
  series(key: string, labels: () => Labels): S {
    let series = this.#series.get(key);
    if (!series) {
      series = this.create(labels());
      this.#series.set(key, series);
    }
    return series;
  }

  protected abstract create(labels: Labels): S;
  protected abstract values(series: S): Sample[];

  /** prom-client's Registry#resetMetrics: every count back to zero. */
  reset(): void {
    for (const series of this.#series.values()) this.zero(series);
  }

  protected abstract zero(series: S): void;

  async get() {
    return {
      help: this.help,
      name: this.name,
      type: this.type,
      values: [...this.#series.values()].flatMap((series) => this.values(series)),
      aggregator: this.aggregator,
    };
  }
}

/** A counter's series: its `value` is incremented by the caller. */
type CounterSeries = { labels: Labels; value: number };

class HotCounter extends HotMetric<CounterSeries> {
  readonly type = 'counter';

  protected create(labels: Labels): CounterSeries {
    return { labels, value: 0 };
  }

  protected zero(series: CounterSeries): void {
    series.value = 0;
  }

  protected values(series: CounterSeries): Sample[] {
    return [{ value: series.value, labels: series.labels }];
  }
}

type HistogramSeries = { labels: Labels; counts: number[]; sum: number; count: number };

class HotHistogram extends HotMetric<HistogramSeries> {
  readonly type = 'histogram';
  readonly #bounds: readonly number[];

  constructor(name: string, help: string, bounds: readonly number[], registry: Registry) {
    super(name, help, registry);
    this.#bounds = bounds;
  }

  observe(series: HistogramSeries, value: number): void {
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    // Past the last bound: counted in +Inf only, which is `count`.
    if (i < bounds.length) series.counts[i] = (series.counts[i] as number) + 1;
    series.sum += value;
    series.count++;
  }

  protected create(labels: Labels): HistogramSeries {
    return { labels, counts: this.#bounds.map(() => 0), sum: 0, count: 0 };
  }

  protected zero(series: HistogramSeries): void {
    series.counts.fill(0);
    series.sum = 0;
    series.count = 0;
  }

  /** As prom-client writes a histogram: cumulative buckets, +Inf, sum, count. */
  protected values(series: HistogramSeries): Sample[] {
    const { labels } = series;
    let cumulative = 0;
    const buckets = this.#bounds.map((le, i) => {
      cumulative += series.counts[i] as number;
      return { labels: { le, ...labels }, value: cumulative, metricName: `${this.name}_bucket` };
    });
    return [
      ...buckets,
      { labels: { le: '+Inf', ...labels }, value: series.count, metricName: `${this.name}_bucket` },
      { labels, value: series.sum, metricName: `${this.name}_sum` },
      { labels, value: series.count, metricName: `${this.name}_count` },
    ];
  }
}

/** One route and method's duration series and its request counters by status. */
type RouteSeries = { duration: HistogramSeries; byStatus: Map<number, CounterSeries> };

export class PlatformMetrics {
  readonly registry = new Registry();
  readonly httpRequests = new HotCounter(
    'tokenplane_http_requests_total',
    'HTTP requests by method, route and status code',
    this.registry,
  );
  readonly httpDuration = new HotHistogram(
    'tokenplane_http_request_duration_seconds',
    'HTTP request latency by method and route, until the answer is handed to Node',
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    this.registry,
  );
  readonly tokensIssued = new Counter({
    name: 'tokenplane_tokens_issued_total',
    help: 'API tokens issued (default tokens included)',
    registers: [this.registry],
  });
  readonly tokensRotated = new Counter({
    name: 'tokenplane_tokens_rotated_total',
    help: 'API token rotations',
    registers: [this.registry],
  });
  readonly tokensRevoked = new Counter({
    name: 'tokenplane_tokens_revoked_total',
    help: 'API tokens revoked, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly quotaRefusals = new Counter({
    name: 'tokenplane_quota_refusals_total',
    help: 'Creates and downgrades refused because of the token quota',
    registers: [this.registry],
  });
  readonly ceilingRefusals = new Counter({
    name: 'tokenplane_ceiling_refusals_total',
    help: 'Creates and tier changes refused because of the tier ceiling',
    registers: [this.registry],
  });
  readonly problems = new Counter({
    name: 'tokenplane_problems_total',
    help: 'Problem answers (refusals and errors) by slug: unauthorized, forbidden, not-found, validation, and the analytics refusals (signature-invalid, ip-not-allowed, origin-not-allowed, tier-insufficient, scope-insufficient, rate-limited, usage-exceeded, …)',
    labelNames: ['slug'] as const,
    registers: [this.registry],
  });
  readonly verifications = new HotCounter(
    'tokenplane_token_verifications_total',
    'API token verifications by result and cache use',
    this.registry,
  );
  readonly webhookAttempts = new Counter({
    name: 'tokenplane_webhook_attempts_total',
    help: 'Webhook delivery attempts by outcome (delivered, retry, failed)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  #revocationListener: Gauge | undefined;
  /**
   * Registered on first use: only a server on PostgreSQL listens for revocations,
   * so a server on SQLite has no such series (and no alert says it is down).
   */
  get revocationListener(): Gauge {
    this.#revocationListener ??= new Gauge({
      name: 'tokenplane_revocation_listener_up',
      help: '1 while this server listens for revocations made by other servers (PostgreSQL only)',
      registers: [this.registry],
    });
    return this.#revocationListener;
  }

  readonly heapLimit = new Gauge({
    name: 'tokenplane_heap_limit_bytes',
    help: 'V8 heap limit (--max-old-space-size plus the young generation; tokenplane serve sets both)',
    registers: [this.registry],
    collect() {
      this.set(getHeapStatistics().heap_size_limit);
    },
  });
  readonly #sizes = new Map<string, () => number>();
  readonly cacheEntries = new Gauge({
    name: 'tokenplane_cache_entries',
    help: 'Entries held in memory by cache (each has a fixed maximum or is swept by a timer)',
    labelNames: ['cache'] as const,
    registers: [this.registry],
    collect: () => {
      for (const [cache, size] of this.#sizes) this.cacheEntries.set({ cache }, size());
    },
  });

  /** The request series by route pattern and method (observeRequest). */
  readonly #routes = new PairMap<string, string, RouteSeries>();
  /** The verification series by result and cache use. */
  readonly #verifications = new PairMap<string, string, CounterSeries>();
  // Refusals only: prom-client's children are fast enough off the hot path.
  readonly #problemChildren = new Map<string, { inc(): void }>();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'tokenplane_' });
  }

  /** Reports a cache's entry count in `tokenplane_cache_entries{cache}` at every scrape. */
  countEntries(cache: string, size: () => number): void {
    this.#sizes.set(cache, size);
  }

  /** Counted through PairMaps: no key string is made per request. */
  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const series =
      this.#routes.get(route, method) ??
      this.#routes.set(route, method, {
        duration: this.httpDuration.series(`${method} ${route}`, () => ({ method, route })),
        byStatus: new Map(),
      });
    let counter = series.byStatus.get(status);
    if (counter === undefined) {
      counter = this.httpRequests.series(`${method} ${route} ${status}`, () => ({
        method,
        route,
        status: String(status),
      }));
      series.byStatus.set(status, counter);
    }
    counter.value++;
    this.httpDuration.observe(series.duration, seconds);
  }

  problem(slug: string): void {
    let counter = this.#problemChildren.get(slug);
    if (!counter) {
      counter = this.problems.labels(slug);
      this.#problemChildren.set(slug, counter);
    }
    counter.inc();
  }

  verification(result: string, cache: string): void {
    const counter =
      this.#verifications.get(result, cache) ??
      this.#verifications.set(
        result,
        cache,
        this.verifications.series(`${result} ${cache}`, () => ({ result, cache })),
      );
    counter.value++;
  }
}
