/**
 * Kubernetes Events (events.k8s.io/v1) about our objects. The same reason and
 * note for the same object are recorded once per `dedupeMs`, so a refusal that
 * is retried with backoff does not flood the namespace. Notes are fixed text or
 * platform `detail`s — never token values.
 */
import { randomBytes } from 'node:crypto';
import type { EventsV1Api } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Reason } from '../core/external/index.ts';
import { API_VERSION } from './crds/schemas.ts';
import { microTime } from './kube.ts';

/**
 * Reasons of Normal Events (what was done), and of the four Warnings marked
 * below; other Warning Events use the condition reason of the refusal
 * (core/external/reasons.ts).
 */
export const EventReasons = {
  Created: 'Created',
  Adopted: 'Adopted',
  Updated: 'Updated',
  Repaired: 'Repaired',
  Rotated: 'Rotated',
  Deleted: 'Deleted',
  Orphaned: 'Orphaned',
  SecretRestored: 'SecretRestored',
  RolloutRestarted: 'RolloutRestarted',
  /** Warning: the recorded platform object vanished; a new one is made. */
  TokenMissing: 'TokenMissing',
  /** Warning: the recorded platform entity vanished; a new one is made. */
  Repairing: 'Repairing',
  /** Warning: a rotation's replay was refused (the token was rotated again since); the next one runs. */
  RotationSuperseded: 'RotationSuperseded',
  /** Warning: a workload that reads the Secret could not be restarted. */
  RolloutRestartFailed: 'RolloutRestartFailed',
} as const;
export type EventReason = (typeof EventReasons)[keyof typeof EventReasons];

export type EventType = 'Normal' | 'Warning';
/** Events remembered for de-duplication; older ones are forgotten first. */
const MAX_REMEMBERED = 10_000;
export type Regarding = {
  kind: string;
  metadata: { name: string; namespace: string; uid: string };
};

/**
 * Event writes waiting to be sent; past this many, new ones are dropped and
 * counted (client-go's recorder drops past its 1,000-event buffer too). Sending
 * them all at once let a slow API server pile up thousands of requests in the
 * heap while 10,000 ApiTokens were issued.
 */
const MAX_QUEUED = 1000;
/**
 * Event writes in flight at once: with 4, a loaded machine dropped 663 of
 * 13,000 Events while 10,000 ApiTokens were issued (bench:operator, two CPU hogs).
 */
const SENDERS = 8;

type Pending = Parameters<EventsV1Api['createNamespacedEvent']>[0];

export type EventRecorderOptions = {
  api: Pick<EventsV1Api, 'createNamespacedEvent'>;
  /** The reporting instance (this replica's identity). */
  instance: string;
  log: Logger;
  dedupeMs?: number;
  /** Called for each Event dropped because the queue was full. */
  onDropped?(): void;
};

export class EventRecorder {
  readonly #o: EventRecorderOptions;
  readonly #recent = new Map<string, number>();
  readonly #dedupeMs: number;
  readonly #queue: Pending[] = [];
  #sending = 0;
  #idle: Array<() => void> = [];

  constructor(o: EventRecorderOptions) {
    this.#o = o;
    this.#dedupeMs = o.dedupeMs ?? 10 * 60_000;
  }

  /** Something was done. */
  normal(obj: Regarding, reason: EventReason, note: string): void {
    this.record(obj, 'Normal', reason, note);
  }

  /** Something is wrong, or was found wrong and is being repaired. */
  warning(obj: Regarding, reason: EventReason | Reason, note: string): void {
    this.record(obj, 'Warning', reason, note);
  }

  /** Fire and forget: an Event that cannot be written never fails a reconcile. */
  record(
    obj: Regarding,
    type: EventType,
    reason: EventReason | Reason,
    note: string,
    action: string = reason,
  ): void {
    const key = `${obj.metadata.uid}/${reason}/${note}`;
    const now = Date.now();
    if ((this.#recent.get(key) ?? 0) > now - this.#dedupeMs) return;
    const { name, namespace, uid } = obj.metadata;
    // Warnings reach the log at info; the Normal Event of every issuance (10,000 on a
    // fresh install at scale) only at debug — the Event itself is the record.
    this.#o.log[type === 'Warning' ? 'info' : 'debug'](
      { kind: obj.kind, namespace, name, type, reason, note },
      'event',
    );
    if (this.#queue.length >= MAX_QUEUED) {
      this.#o.onDropped?.();
      return;
    }
    // Re-inserted, so the map stays oldest first and pruning stops at the first keeper.
    this.#recent.delete(key);
    this.#recent.set(key, now);
    if (this.#recent.size > MAX_REMEMBERED) this.#prune(now);
    this.#queue.push({
      namespace,
      body: {
        metadata: {
          name: `${name}.${now.toString(16)}${randomBytes(2).toString('hex')}`,
          namespace,
        },
        eventTime: microTime(),
        reportingController: 'tokenplane.dev/operator',
        reportingInstance: this.#o.instance,
        action,
        reason,
        type,
        note: note.slice(0, 1000),
        regarding: { apiVersion: API_VERSION, kind: obj.kind, name, namespace, uid },
      },
    });
    this.#send();
  }

  /** Resolves once every queued Event has been written (or has failed). */
  flush(): Promise<void> {
    if (this.#sending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #send(): void {
    while (this.#sending < SENDERS && this.#queue.length > 0) {
      const next = this.#queue.shift() as Pending;
      this.#sending++;
      this.#o.api
        .createNamespacedEvent(next)
        .catch((err: unknown) =>
          this.#o.log.warn(
            { reason: next.body.reason, err: String(err).slice(0, 800) },
            'event not recorded',
          ),
        )
        .finally(() => {
          this.#sending--;
          this.#send();
          if (this.#sending === 0) for (const resolve of this.#idle.splice(0)) resolve();
        });
    }
  }

  /** Forgets what has expired and, past the bound, the oldest (a fresh install records one per object). */
  #prune(now: number) {
    for (const [key, at] of this.#recent) {
      if (at > now - this.#dedupeMs && this.#recent.size <= MAX_REMEMBERED) return;
      this.#recent.delete(key);
    }
  }
}
