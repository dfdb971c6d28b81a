/**
 * A watched cache that survives: @kubernetes/client-node's informer re-lists
 * on 410 Gone and reconnects after its own inactivity timeout, but any other
 * error stops it. Here every error restarts it with exponential backoff, and a
 * watchdog restarts a watch that has said nothing (no event, no reconnect) for
 * too long.
 *
 * It also keeps memory in step with the objects, not with their history: lists
 * come in pages (`limit`/`continue`), and every listed or watched object passes
 * `transform` before the cache keeps it (controller-runtime's cache
 * TransformFunc), so managedFields and fields no reconcile reads are dropped at
 * the door.
 */
import {
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  ListWatch,
  Watch,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';

export type WatchHandlers<T> = {
  add?(obj: T): void;
  update?(obj: T): void;
  delete?(obj: T): void;
};

/** One page of a list call: `continue` is the previous page's token. */
export type ListPage = { limit: number; continue?: string };

export type WatchedOptions<T extends object> = {
  kc: KubeConfig;
  path: string;
  list: (page: ListPage) => Promise<KubernetesListObject<KubernetesObject>>;
  /** What the cache keeps of each object (default: all of it). Must keep metadata.resourceVersion. */
  transform?: (obj: KubernetesObject) => T;
  /** Objects per list page (default 500, as client-go's pager). */
  pageSize?: number;
  labelSelector?: string;
  handlers: WatchHandlers<T>;
  log: Logger;
  watchdogMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Called on each restart, for metrics. */
  onRestart?(reason: string): void;
};

export class Watched<T extends object> {
  readonly #opts: WatchedOptions<T>;
  readonly #informer: ListWatch<KubernetesObject>;
  #failures = 0;
  #lastActivity = Date.now();
  #synced = false;
  #stopped = true;
  #restartTimer: NodeJS.Timeout | undefined;
  #watchdog: NodeJS.Timeout | undefined;

  constructor(opts: WatchedOptions<T>) {
    this.#opts = opts;
    const transform = opts.transform ?? ((obj: KubernetesObject) => obj as T);
    this.#informer = new ListWatch<KubernetesObject>(
      opts.path,
      transformingWatch(new Watch(opts.kc), transform),
      () => listAll(opts.list, opts.pageSize ?? 500, transform),
      false,
      opts.labelSelector,
    );
    const touch = () => {
      this.#lastActivity = Date.now();
      this.#failures = 0;
    };
    this.#informer.on('add', (obj) => {
      touch();
      opts.handlers.add?.(obj as T);
    });
    this.#informer.on('update', (obj) => {
      touch();
      opts.handlers.update?.(obj as T);
    });
    this.#informer.on('delete', (obj) => {
      touch();
      opts.handlers.delete?.(obj as T);
    });
    this.#informer.on('connect', () => {
      this.#lastActivity = Date.now();
    });
    this.#informer.on('error', (err) => this.#restart(describe(err)));
  }

  /** Lists, then watches. Resolves once the first list is in the cache (or has failed). */
  async start(): Promise<void> {
    this.#stopped = false;
    this.#lastActivity = Date.now();
    const watchdogMs = this.#opts.watchdogMs ?? 5 * 60_000;
    this.#watchdog = setInterval(
      () => {
        if (Date.now() - this.#lastActivity > watchdogMs) this.#restart('watch silent');
      },
      Math.max(1000, Math.floor(watchdogMs / 4)),
    );
    this.#watchdog.unref();
    await this.#startInformer();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#watchdog);
    clearTimeout(this.#restartTimer);
    await this.#informer.stop();
  }

  get synced(): boolean {
    return this.#synced;
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#informer.get(name, namespace) as T | undefined;
  }

  list(namespace?: string): T[] {
    return [...this.#informer.list(namespace)] as T[];
  }

  async #startInformer(): Promise<void> {
    let failed = false;
    const onError = () => {
      failed = true;
    };
    this.#informer.on('error', onError);
    try {
      await this.#informer.start();
    } catch (err) {
      failed = true;
      this.#restart(describe(err));
    } finally {
      this.#informer.off('error', onError);
    }
    if (!failed) this.#synced = true;
  }

  #restart(reason: string): void {
    if (this.#stopped || this.#restartTimer) return;
    const base = this.#opts.backoffBaseMs ?? 500;
    const delay = Math.min(base * 2 ** this.#failures, this.#opts.backoffMaxMs ?? 30_000);
    this.#failures++;
    this.#opts.onRestart?.(reason);
    this.#opts.log.warn({ path: this.#opts.path, reason, delayMs: delay }, 'watch restarting');
    this.#restartTimer = setTimeout(async () => {
      this.#restartTimer = undefined;
      if (this.#stopped) return;
      this.#lastActivity = Date.now();
      await this.#informer.stop();
      await this.#startInformer();
    }, delay);
    this.#restartTimer.unref();
  }
}

/**
 * The whole list, page by page (one consistent snapshot: the server serves
 * continued pages at the first page's resourceVersion); each page is
 * transformed before the next is fetched, so a full page never outlives its turn.
 */
export async function listAll<T>(
  list: WatchedOptions<never>['list'],
  limit: number,
  transform: (obj: KubernetesObject) => T,
): Promise<KubernetesListObject<KubernetesObject>> {
  const items: KubernetesObject[] = [];
  let page = await list({ limit });
  for (;;) {
    for (const item of page.items) items.push(transform(item) as KubernetesObject);
    // Typed clients name it `_continue`; custom objects arrive as the server's JSON.
    const meta = page.metadata as { _continue?: string; continue?: string } | undefined;
    const next = meta?._continue ?? meta?.continue;
    if (!next) break;
    page = await list({ limit, continue: next });
  }
  return { apiVersion: page.apiVersion, kind: page.kind, metadata: page.metadata, items };
}

/** A Watch whose events carry the transformed object (the raw one is dropped at once). */
function transformingWatch<T>(watch: Watch, transform: (obj: KubernetesObject) => T): Watch {
  return {
    watch: (path, params, callback, done) =>
      watch.watch(
        path,
        params,
        (phase, obj) => callback(phase, phase === 'ERROR' ? obj : transform(obj), undefined),
        done,
      ),
  } as Watch;
}

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`.slice(0, 300);
  return String(err).slice(0, 300);
}
