/**
 * A rate-limited work queue with client-go's guarantees:
 * - `add` de-duplicates: a key waiting in the queue is queued once;
 * - a key being processed is never handed to a second worker; if it is added
 *   meanwhile, it is queued again when `done` is called;
 * - `addRateLimited` waits the key's exponential backoff; `forget` resets it;
 * - `addAfter` keeps only the earliest pending deadline per key;
 * - keys back from `addAfter` (resyncs, waits, retries) queue behind keys added
 *   now (watch events): at 10,000 ApiTokens the 5-minute resyncs alone came back
 *   faster than a loaded machine converged, and a FIFO queue never drained the
 *   backlog (controller-runtime's priority queue does the same for its resyncs).
 * Workers are run by `runWorkers` with bounded concurrency; `done` always runs.
 */

export type RateLimiter = {
  when(key: string): number;
  forget(key: string): void;
  retries(key: string): number;
};

/** Per-key exponential backoff: base × 2^failures, capped. */
export function exponentialRateLimiter(baseMs = 100, maxMs = 60_000): RateLimiter {
  const failures = new Map<string, number>();
  return {
    when(key) {
      const n = failures.get(key) ?? 0;
      failures.set(key, n + 1);
      return Math.min(baseMs * 2 ** n, maxMs);
    },
    forget(key) {
      failures.delete(key);
    },
    retries(key) {
      return failures.get(key) ?? 0;
    },
  };
}

export class WorkQueue {
  readonly #queue: string[] = [];
  /** Keys back from a delay, served when `#queue` is empty; `#later` may hold stale entries. */
  readonly #later: string[] = [];
  readonly #inLater = new Set<string>();
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #waiting = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  readonly #getters: Array<(key: string | undefined) => void> = [];
  readonly #limiter: RateLimiter;
  #shuttingDown = false;

  constructor(limiter: RateLimiter = exponentialRateLimiter()) {
    this.#limiter = limiter;
  }

  add(key: string): void {
    this.#add(key, false);
  }

  #add(key: string, late: boolean): void {
    if (this.#shuttingDown) return;
    if (this.#dirty.has(key)) {
      // Waiting behind the delayed keys, and now asked for: brought forward.
      if (!late && this.#inLater.delete(key)) this.#queue.push(key);
      return;
    }
    this.#dirty.add(key);
    if (this.#processing.has(key)) return;
    this.#push(key, late);
  }

  addAfter(key: string, delayMs: number): void {
    if (this.#shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = Date.now() + delayMs;
    const pending = this.#waiting.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.#waiting.delete(key);
      this.#add(key, true);
    }, delayMs);
    timer.unref();
    this.#waiting.set(key, { at, timer });
  }

  addRateLimited(key: string): void {
    this.addAfter(key, this.#limiter.when(key));
  }

  forget(key: string): void {
    this.#limiter.forget(key);
  }

  retries(key: string): number {
    return this.#limiter.retries(key);
  }

  /** Next key to process, or undefined once the queue shuts down. */
  get(): Promise<string | undefined> {
    if (this.#shuttingDown) return Promise.resolve(undefined);
    const key = this.#take();
    if (key !== undefined) return Promise.resolve(key);
    return new Promise((resolve) => this.#getters.push(resolve));
  }

  done(key: string): void {
    this.#processing.delete(key);
    if (this.#dirty.has(key)) this.#push(key);
  }

  get length(): number {
    return this.#queue.length + this.#inLater.size;
  }

  get processing(): number {
    return this.#processing.size;
  }

  shutDown(): void {
    this.#shuttingDown = true;
    for (const { timer } of this.#waiting.values()) clearTimeout(timer);
    this.#waiting.clear();
    for (const resolve of this.#getters.splice(0)) resolve(undefined);
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  #push(key: string, late = false): void {
    const getter = this.#getters.shift();
    if (getter) {
      this.#dirty.delete(key);
      this.#processing.add(key);
      getter(key);
    } else if (late) {
      this.#later.push(key);
      this.#inLater.add(key);
    } else {
      this.#queue.push(key);
    }
  }

  #take(): string | undefined {
    let key = this.#queue.shift();
    while (key === undefined && this.#later.length > 0) {
      const next = this.#later.shift() as string;
      // An entry whose key was brought forward (or already taken) is stale.
      if (this.#inLater.delete(next)) key = next;
    }
    if (key === undefined) return undefined;
    this.#dirty.delete(key);
    this.#processing.add(key);
    return key;
  }
}

/** What a reconcile asks of the queue, after controller-runtime's Result. */
export type Result = { requeueAfterMs?: number; error?: unknown; terminal?: boolean };

export type Handler = (key: string) => Promise<Result | undefined>;

/**
 * Runs `concurrency` workers until the queue shuts down, then resolves once
 * in-flight items are finished. Maps results to the queue: error → rate-limited
 * retry (unless terminal), requeueAfter → forget + addAfter, success → forget.
 */
export async function runWorkers(
  queue: WorkQueue,
  concurrency: number,
  handler: Handler,
  onPanic: (key: string, err: unknown) => void = () => {},
): Promise<void> {
  const worker = async () => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        const result = (await handler(key)) ?? {};
        if (result.error !== undefined && !result.terminal) {
          queue.addRateLimited(key);
        } else if (result.requeueAfterMs !== undefined) {
          queue.forget(key);
          queue.addAfter(key, result.requeueAfterMs);
        } else {
          queue.forget(key);
        }
      } catch (err) {
        onPanic(key, err);
        queue.addRateLimited(key);
      } finally {
        queue.done(key);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}
