/**
 * The receiving end of storage/revocations.ts: one dedicated PostgreSQL
 * connection, outside the pool, LISTENing on the revocation channel.
 *
 * A dropped connection loses notifications silently, so: on every (re)connect
 * the owner is told to assume that everything changed (`onResync`); while the
 * connection is down the owner's cache lifetime bounds staleness; a periodic
 * ping detects a connection that died without closing; reconnects back off
 * from 100 ms to 5 s.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { decodeTarget, REVOCATION_CHANNEL, type RevocationTarget } from './revocations.ts';

export type ListenerHandlers = {
  onChange(target: RevocationTarget): void;
  /** Connected (again): notifications may have been missed meanwhile. */
  onResync(): void;
  onState(up: boolean): void;
};

export type ListenerOptions = { pingMs?: number; maxBackoffMs?: number };

export class RevocationListener {
  readonly #url: string;
  readonly #handlers: ListenerHandlers;
  readonly #log: Logger;
  readonly #pingMs: number;
  readonly #maxBackoffMs: number;
  #client: pg.Client | null = null;
  #backoffMs = 100;
  #retry: NodeJS.Timeout | null = null;
  #ping: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(url: string, handlers: ListenerHandlers, log: Logger, options: ListenerOptions = {}) {
    this.#url = url;
    this.#handlers = handlers;
    this.#log = log;
    this.#pingMs = options.pingMs ?? 2000;
    this.#maxBackoffMs = options.maxBackoffMs ?? 5000;
  }

  get up(): boolean {
    return this.#client !== null;
  }

  /** Connects once; on failure keeps retrying in the background (and says it is down until connected). */
  async start(): Promise<void> {
    this.#handlers.onState(false);
    await this.#connect();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retry) clearTimeout(this.#retry);
    if (this.#ping) clearInterval(this.#ping);
    const client = this.#client;
    this.#client = null;
    await client?.end().catch(() => {});
  }

  async #connect(): Promise<void> {
    if (this.#closed) return;
    const client = new pg.Client({
      connectionString: this.#url,
      keepAlive: true,
      connectionTimeoutMillis: this.#pingMs * 2,
      query_timeout: this.#pingMs * 2,
    });
    client.on('notification', (message) => {
      const target = decodeTarget(message.payload ?? '');
      if (target) this.#handlers.onChange(target);
      else this.#handlers.onResync();
    });
    client.on('error', (error) => this.#lost(client, error));
    client.on('end', () => this.#lost(client, null));
    try {
      await client.connect();
      await client.query(`LISTEN ${REVOCATION_CHANNEL}`);
    } catch (error) {
      client.removeAllListeners('end');
      await client.end().catch(() => {});
      this.#lost(client, error);
      return;
    }
    if (this.#closed) {
      await client.end().catch(() => {});
      return;
    }
    this.#client = client;
    this.#backoffMs = 100;
    this.#handlers.onState(true);
    this.#handlers.onResync();
    this.#ping = setInterval(() => {
      client.query('SELECT 1').catch((error) => this.#lost(client, error));
    }, this.#pingMs);
    this.#ping.unref();
    this.#log.info('listening for revocations made by other servers');
  }

  /** Handles the loss of `client` once, then schedules a reconnect. */
  #lost(client: pg.Client, error: unknown): void {
    const wasCurrent = this.#client === client;
    if (wasCurrent) {
      this.#client = null;
      if (this.#ping) clearInterval(this.#ping);
      this.#ping = null;
      this.#handlers.onState(false);
      client.end().catch(() => {});
      this.#log.warn(
        { err: error },
        'lost the revocation channel: other servers’ changes now reach this one within the verification cache lifetime',
      );
    }
    if (this.#closed || this.#retry || (!wasCurrent && this.#client)) return;
    this.#retry = setTimeout(() => {
      this.#retry = null;
      void this.#connect();
    }, this.#backoffMs);
    this.#retry.unref();
    this.#backoffMs = Math.min(this.#backoffMs * 2, this.#maxBackoffMs);
  }
}
