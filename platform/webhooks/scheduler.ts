/**
 * Runs the notice scan (storage/notices.ts: token.expiring, token.expired,
 * token.usage_low) every `intervalMs` on every server; the scan itself makes
 * sure that one server at a time does the work and each notice goes out once.
 */
import type { Logger } from 'pino';
import type { Repository } from '../storage/repository.ts';

export class NoticeScheduler {
  readonly #repo: Repository;
  readonly #log: Logger;
  readonly #timer: NodeJS.Timeout;
  #running: Promise<number> | null = null;

  constructor(repo: Repository, log: Logger, intervalMs = 60_000) {
    this.#repo = repo;
    this.#log = log;
    this.#timer = setInterval(() => {
      this.runOnce().catch(() => {});
    }, intervalMs);
    this.#timer.unref();
  }

  /** One scan now (joins a scan in progress); resolves to the notices written. */
  runOnce(): Promise<number> {
    this.#running ??= this.#repo
      .scanNotices()
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
