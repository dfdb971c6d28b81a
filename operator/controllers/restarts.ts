/**
 * Rollout restarts of the workloads an ApiToken lists in
 * `rolloutRestartTargets` (by name or label selector), debounced per workload:
 * a restart waits `windowMs`, and every new value delivered for that workload
 * meanwhile joins it — several rotations in one window restart it once.
 * Restarts are counted in tokenplane_operator_rollout_restarts_total.
 */
import type { ApiTokenObject } from '../crds/schemas.ts';
import { EventReasons, type EventRecorder } from '../events.ts';
import type { Kube } from '../kube.ts';
import type { Metrics } from '../runtime/metrics.ts';

type Kind = 'Deployment' | 'StatefulSet' | 'DaemonSet';
type Pending = { namespace: string; kind: Kind; name: string; obj: ApiTokenObject; secret: string };

export type RestartOptions = {
  kube: Pick<Kube, 'restartWorkload' | 'listWorkloads'>;
  events: Pick<EventRecorder, 'normal' | 'warning'>;
  metrics: Pick<Metrics, 'rolloutRestarts'>;
  windowMs: number;
  now(): Date;
};

export class RolloutRestarter {
  readonly #o: RestartOptions;
  readonly #pending = new Map<string, { due: Pending; timer: NodeJS.Timeout }>();
  readonly #inFlight = new Set<Promise<void>>();

  constructor(options: RestartOptions) {
    this.#o = options;
  }

  /** The Secret `secret` of `obj` holds a new value: restart its targets (after the window). */
  async request(obj: ApiTokenObject, secret: string): Promise<void> {
    const { namespace } = obj.metadata;
    for (const target of obj.spec.rolloutRestartTargets ?? []) {
      const names = target.name
        ? [target.name]
        : await this.#selected(obj, target.kind, target.selector?.matchLabels ?? {});
      for (const name of names) this.#schedule({ namespace, kind: target.kind, name, obj, secret });
    }
  }

  /** Restarts everything still waiting at once (shutdown), and waits for it. */
  async flush(): Promise<void> {
    for (const [key, { due, timer }] of this.#pending) {
      clearTimeout(timer);
      this.#pending.delete(key);
      this.#fire(due);
    }
    await Promise.all(this.#inFlight);
  }

  #schedule(due: Pending): void {
    const key = `${due.namespace}/${due.kind}/${due.name}`;
    const waiting = this.#pending.get(key);
    if (waiting) {
      waiting.due = due; // joins the restart already waiting
      return;
    }
    if (this.#o.windowMs <= 0) {
      this.#fire(due);
      return;
    }
    const timer = setTimeout(() => {
      const entry = this.#pending.get(key);
      this.#pending.delete(key);
      if (entry) this.#fire(entry.due);
    }, this.#o.windowMs);
    timer.unref();
    this.#pending.set(key, { due, timer });
  }

  #fire(due: Pending): void {
    const done = this.#restart(due).finally(() => this.#inFlight.delete(done));
    this.#inFlight.add(done);
  }

  async #restart({ namespace, kind, name, obj, secret }: Pending): Promise<void> {
    try {
      await this.#o.kube.restartWorkload(namespace, kind, name, this.#o.now().toISOString());
      this.#o.metrics.rolloutRestarts.inc({ kind, outcome: 'restarted' });
      this.#o.events.normal(
        obj,
        EventReasons.RolloutRestarted,
        `Restarted ${kind} "${name}" to pick up the new value in Secret "${secret}".`,
      );
    } catch (err) {
      this.#o.metrics.rolloutRestarts.inc({ kind, outcome: 'failed' });
      const code = (err as { code?: unknown }).code;
      this.#o.events.warning(
        obj,
        EventReasons.RolloutRestartFailed,
        `Could not restart ${kind} "${name}"${typeof code === 'number' ? ` (HTTP ${code})` : ''}; restart it to pick up the new token.`,
      );
    }
  }

  async #selected(
    obj: ApiTokenObject,
    kind: Kind,
    matchLabels: Record<string, string>,
  ): Promise<string[]> {
    const selector = Object.entries(matchLabels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    try {
      return await this.#o.kube.listWorkloads(obj.metadata.namespace, kind, selector);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      this.#o.events.warning(
        obj,
        EventReasons.RolloutRestartFailed,
        `Could not list the ${kind}s selected by "${selector}"${typeof code === 'number' ? ` (HTTP ${code})` : ''}; restart them to pick up the new token.`,
      );
      return [];
    }
  }
}
