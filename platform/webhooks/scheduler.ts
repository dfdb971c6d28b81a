/**
 * Runs the notice scan (storage/notices.ts: token.expiring, token.expired,
 * token.usage_low) every `intervalMs` on every server; the scan itself makes
 * sure that one server at a time does the work and each notice goes out once.
 */
import type { Logger } from 'pino';
import { scanNotices } from '../storage/notices.ts';
import type { Store } from '../storage/store.ts';

export class NoticeScheduler {
  readonly #store: Store;
  readonly #log: Logger;
  /** Wakes the webhook sender: notices were written. */
  readonly #wake: () => void;
  readonly #timer: NodeJS.Timeout;
  #running: Promise<number> | null = null;

  constructor(store: Store, log: Logger, wake: () => void, intervalMs = 60_000) {
    this.#store = store;
    this.#log = log;
    this.#wake = wake;
    this.#timer = setInterval(() => {
      this.runOnce().catch(() => {});
    }, intervalMs);
    this.#timer.unref();
  }

  /** One scan now (joins a scan in progress); resolves to the notices written. */
  runOnce(): Promise<number> {
    this.#running ??= scanNotices(this.#store)
      .then((written) => {
        if (written > 0) this.#wake();
        return written;
      })
      .catch((error) => {
        this.#log.error({ err: error }, 'could not scan for expiring tokens and low usage');
        throw error;
      })
      .finally(() => {
        this.#running = null;
      });
    return this.#running;
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running?.catch(() => {});
  }
}
