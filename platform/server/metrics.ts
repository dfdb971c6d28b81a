/** Prometheus metrics of one platform instance (its own registry, so tests can run several). */
import { getHeapStatistics } from 'node:v8';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export class PlatformMetrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'tokenplane_http_requests_total',
    help: 'HTTP requests by method, route and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'tokenplane_http_request_duration_seconds',
    help: 'HTTP request latency by method and route',
    labelNames: ['method', 'route'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
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
  readonly verifications = new Counter({
    name: 'tokenplane_token_verifications_total',
    help: 'API token verifications by result and cache use',
    labelNames: ['result', 'cache'] as const,
    registers: [this.registry],
  });
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

  // Labelled children are looked up once per label set, not hashed on every request.
  readonly #requestChildren = new Map<string, { inc(): void }>();
  readonly #durationChildren = new Map<string, { observe(v: number): void }>();
  readonly #verificationChildren = new Map<string, { inc(): void }>();
  readonly #problemChildren = new Map<string, { inc(): void }>();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'tokenplane_' });
  }

  /** Reports a cache's entry count in `tokenplane_cache_entries{cache}` at every scrape. */
  countEntries(cache: string, size: () => number): void {
    this.#sizes.set(cache, size);
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${route}`;
    const statusKey = `${key} ${status}`;
    let counter = this.#requestChildren.get(statusKey);
    if (!counter) {
      counter = this.httpRequests.labels(method, route, String(status));
      this.#requestChildren.set(statusKey, counter);
    }
    counter.inc();
    let histogram = this.#durationChildren.get(key);
    if (!histogram) {
      histogram = this.httpDuration.labels(method, route);
      this.#durationChildren.set(key, histogram);
    }
    histogram.observe(seconds);
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
    const key = `${result} ${cache}`;
    let counter = this.#verificationChildren.get(key);
    if (!counter) {
      counter = this.verifications.labels(result, cache);
      this.#verificationChildren.set(key, counter);
    }
    counter.inc();
  }
}
