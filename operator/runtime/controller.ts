/**
 * One controller: a work queue, bounded workers, and a reconcile function per
 * key (`namespace/name`), with metrics and per-item error isolation.
 */
import type { Logger } from 'pino';
import { inSpan } from '../../core/tracing.ts';
import type { Metrics } from './metrics.ts';
import { exponentialRateLimiter, type Result, runWorkers, WorkQueue } from './workqueue.ts';

export type ControllerOptions = {
  kind: string;
  concurrency: number;
  reconcile(namespace: string, name: string): Promise<Result>;
  metrics: Metrics;
  log: Logger;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
};

export const keyOf = (namespace: string, name: string) => `${namespace}/${name}`;

export class Controller {
  readonly queue: WorkQueue;
  readonly #o: ControllerOptions;
  #running: Promise<void> | undefined;

  constructor(o: ControllerOptions) {
    this.#o = o;
    this.queue = new WorkQueue(
      exponentialRateLimiter(o.backoffBaseMs ?? 500, o.backoffMaxMs ?? 60_000),
    );
  }

  enqueue(namespace: string, name: string, delayMs = 0): void {
    if (delayMs > 0) this.queue.addAfter(keyOf(namespace, name), delayMs);
    else this.queue.add(keyOf(namespace, name));
    this.#gauge();
  }

  start(): void {
    const { kind, metrics, log } = this.#o;
    this.#running = runWorkers(
      this.queue,
      this.#o.concurrency,
      async (key) => {
        const [namespace, name] = key.split('/') as [string, string];
        const stopTimer = metrics.duration.startTimer({ kind });
        this.#gauge();
        try {
          // One trace per reconcile: the platform calls it makes are its children.
          const result = await inSpan(`reconcile ${kind}`, { namespace, name }, () =>
            this.#o.reconcile(namespace, name),
          );
          const label =
            result.error !== undefined
              ? 'error'
              : result.requeueAfterMs !== undefined
                ? 'requeue'
                : 'success';
          metrics.reconciles.inc({ kind, result: label });
          return result;
        } finally {
          stopTimer();
        }
      },
      (key, err) => {
        metrics.reconciles.inc({ kind, result: 'error' });
        metrics.errors.inc({ kind, reason: 'Unexpected' });
        log.error(
          { kind, object: key, err: err instanceof Error ? err.message : String(err) },
          'reconcile failed',
        );
      },
    );
  }

  /** Stops handing out work and waits for in-flight reconciles to finish. */
  async stop(): Promise<void> {
    this.queue.shutDown();
    await this.#running;
  }

  #gauge() {
    this.#o.metrics.queueDepth.set({ kind: this.#o.kind }, this.queue.length);
  }
}
