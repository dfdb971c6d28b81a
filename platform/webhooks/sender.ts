/**
 * The webhook sender of one server: leases due deliveries from the outbox,
 * POSTs each one signed per Standard Webhooks (`webhook-id`,
 * `webhook-timestamp`, `webhook-signature`), and records the outcome with the
 * next attempt's time. It runs when a commit wrote new deliveries (woken by
 * the mutation path and the notice scan) and on a poll timer for retries and for
 * deliveries written by other servers. Leases make several servers on one
 * database share the work without sending one attempt twice.
 */
import type { Logger } from 'pino';
import { Webhook } from 'standardwebhooks';
import { request } from 'undici';
import type { Store } from '../storage/store.ts';
import { type ClaimedDelivery, claimDeliveries, recordAttempt } from '../storage/webhooks.ts';
import { WebhookDestinations } from './destinations.ts';
import { retryDelayMs } from './schedule.ts';

export type SenderOptions = {
  store: Store;
  clock: () => number;
  log: Logger;
  onAttempt?: (outcome: 'delivered' | 'retry' | 'failed') => void;
  /** How often to look for due retries and other servers' deliveries (default 1000 ms). */
  pollMs?: number;
  /** Deliveries leased at once, sent concurrently (default 16). */
  batch?: number;
  /** Per-attempt timeout (default 10 s). */
  timeoutMs?: number;
  /** Where deliveries may go (default: public addresses only); closed with the sender. */
  destinations?: WebhookDestinations;
};

export class WebhookSender {
  readonly #store: Store;
  readonly #clock: () => number;
  readonly #log: Logger;
  readonly #onAttempt: NonNullable<SenderOptions['onAttempt']>;
  readonly #batch: number;
  readonly #timeoutMs: number;
  readonly #destinations: WebhookDestinations;
  readonly #timer: NodeJS.Timeout;
  #draining: Promise<void> | null = null;
  #again = false;
  #closed = false;

  constructor(options: SenderOptions) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#log = options.log;
    this.#onAttempt = options.onAttempt ?? (() => {});
    this.#batch = options.batch ?? 16;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#destinations = options.destinations ?? new WebhookDestinations();
    this.#timer = setInterval(() => this.wake(), options.pollMs ?? 1000);
    this.#timer.unref();
  }

  /** Look for due deliveries now (coalesced with a run in progress). */
  wake(): void {
    if (this.#closed) return;
    if (this.#draining) {
      this.#again = true;
      return;
    }
    this.#draining = this.#drain().finally(() => {
      this.#draining = null;
    });
  }

  /** Stops polling and waits for the attempts in flight to be recorded. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#draining;
    await this.#destinations.close();
  }

  async #drain(): Promise<void> {
    try {
      do {
        this.#again = false;
        // The lease outlives every attempt of the batch, with room to record it.
        const claimed = await claimDeliveries(this.#store, this.#batch, this.#timeoutMs * 3);
        await Promise.all(claimed.map((d) => this.#deliver(d)));
        if (claimed.length === this.#batch) this.#again = true;
      } while (this.#again && !this.#closed);
    } catch (error) {
      this.#log.error({ err: error }, 'webhook sender could not read or update the outbox');
    }
  }

  async #deliver(delivery: ClaimedDelivery): Promise<void> {
    const { responseStatus, error } = await this.#send(delivery);
    const attempts = delivery.attempts + 1;
    const delay = error === null ? null : retryDelayMs(attempts);
    const nextAttemptMs = delay === null ? null : this.#clock() + delay;
    await recordAttempt(this.#store, delivery, { responseStatus, error, nextAttemptMs });
    const outcome = error === null ? 'delivered' : delay === null ? 'failed' : 'retry';
    this.#onAttempt(outcome);
    if (error !== null) {
      this.#log.warn(
        { delivery: delivery.id, event: delivery.eventId, attempts, responseStatus, outcome },
        `webhook delivery attempt failed: ${error}`,
      );
    }
  }

  async #send(
    delivery: ClaimedDelivery,
  ): Promise<{ responseStatus: number | null; error: string | null }> {
    // Refused before anything is sent (an address host; names are checked as they resolve).
    const refused = this.#destinations.refusedUrl(delivery.url);
    if (refused) return { responseStatus: null, error: refused };
    // Signed with the wall clock: receivers compare webhook-timestamp with theirs.
    const signedAt = new Date();
    try {
      const signature = new Webhook(delivery.secret).sign(
        delivery.eventId,
        signedAt,
        delivery.payload,
      );
      const res = await request(delivery.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'tokenplane-webhooks/1',
          'webhook-id': delivery.eventId,
          'webhook-timestamp': String(Math.floor(signedAt.getTime() / 1000)),
          'webhook-signature': signature,
        },
        body: delivery.payload,
        dispatcher: this.#destinations.dispatcher,
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
      });
      await res.body.dump();
      const ok = res.statusCode >= 200 && res.statusCode < 300;
      return { responseStatus: res.statusCode, error: ok ? null : `HTTP ${res.statusCode}` };
    } catch (error) {
      const e = error as { code?: string; message?: string };
      return { responseStatus: null, error: e.code ?? e.message ?? 'request failed' };
    }
  }
}
