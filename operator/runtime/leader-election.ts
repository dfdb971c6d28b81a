/**
 * Leader election on a coordination.k8s.io/v1 Lease, after client-go's
 * leaderelection package: a candidate takes the lease when its holder has not
 * renewed it for `leaseDuration` as measured on the candidate's own clock
 * (never comparing clocks across machines); the leader renews every
 * `retryPeriod` and gives up when it could not renew for `renewDeadline`.
 * Writes use the lease's resourceVersion, so two candidates never both win.
 *
 * A failure is logged once, not at every retry, until it changes or clears; one
 * a person must fix (no such namespace, RBAC, rejected credentials) is also
 * kept as `problem`, a sentence naming the fix, which /readyz reports.
 */
import {
  ApiException,
  CoordinationV1Api,
  type KubeConfig,
  type V1Lease,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { microTime } from '../kube.ts';

export type LeaderElectionOptions = {
  kc: KubeConfig;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  log: Logger;
  onStartedLeading(): void;
  onStoppedLeading(): void;
};

export class LeaderElector {
  readonly #api: CoordinationV1Api;
  readonly #o: Required<Omit<LeaderElectionOptions, 'kc'>>;
  #leader = false;
  #stopped = false;
  #observed: { holder: string; renew: string } | undefined;
  #observedAt = 0;
  #lastRenew = 0;
  #timer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;
  #running: Promise<void> | undefined;
  #lastFailure: string | undefined;
  #problem: string | undefined;

  constructor(opts: LeaderElectionOptions) {
    this.#api = opts.kc.makeApiClient(CoordinationV1Api);
    // `??`, not a spread: callers pass options that are explicitly undefined.
    this.#o = {
      ...opts,
      leaseDurationMs: opts.leaseDurationMs ?? 15_000,
      renewDeadlineMs: opts.renewDeadlineMs ?? 10_000,
      retryPeriodMs: opts.retryPeriodMs ?? 2_000,
    };
  }

  get isLeader(): boolean {
    return this.#leader;
  }

  /** Why the Lease cannot be taken, when a person must fix it; undefined otherwise. */
  get problem(): string | undefined {
    return this.#problem;
  }

  /** Campaigns and renews until `stop`. */
  run(): Promise<void> {
    this.#running ??= this.#loop();
    return this.#running;
  }

  async #loop(): Promise<void> {
    while (!this.#stopped) {
      let ok = false;
      try {
        // A hung request must not keep a leader that can no longer renew.
        ok = await withTimeout(
          this.#tryAcquireOrRenew(),
          Math.max(500, this.#o.renewDeadlineMs / 2),
        );
      } catch (err) {
        this.#failed(err);
      }
      if (ok) {
        this.#recovered();
        this.#lastRenew = Date.now();
        if (!this.#leader) {
          this.#leader = true;
          this.#o.log.info({ identity: this.#o.identity }, 'became leader');
          this.#o.onStartedLeading();
        }
      } else if (this.#leader && Date.now() - this.#lastRenew > this.#o.renewDeadlineMs) {
        this.#leader = false;
        this.#o.log.error('lost leadership');
        this.#o.onStoppedLeading();
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        this.#timer = setTimeout(resolve, this.#o.retryPeriodMs);
      });
    }
  }

  #failed(err: unknown): void {
    const { namespace, name } = this.#o;
    const problem = leaseProblem(err, { namespace, name });
    this.#problem = problem;
    const text = problem ?? `lease update failed: ${errText(err)}`;
    if (text === this.#lastFailure) return;
    this.#lastFailure = text;
    if (problem) this.#o.log.error(problem);
    else this.#o.log.warn({ err: errText(err) }, 'lease update failed');
  }

  #recovered(): void {
    if (this.#lastFailure)
      this.#o.log.info(
        { namespace: this.#o.namespace, name: this.#o.name },
        'lease reachable again',
      );
    this.#lastFailure = undefined;
    this.#problem = undefined;
  }

  /** Stops campaigning; a leader releases the lease so a standby takes over at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#wake?.();
    await this.#running;
    if (!this.#leader) return;
    this.#leader = false;
    try {
      const lease = await this.#api.readNamespacedLease({
        name: this.#o.name,
        namespace: this.#o.namespace,
      });
      if (lease.spec?.holderIdentity !== this.#o.identity) return;
      lease.spec = {
        ...lease.spec,
        holderIdentity: '',
        leaseDurationSeconds: 1,
        acquireTime: asMicroTime(lease.spec.acquireTime),
        renewTime: microTime(),
      };
      await this.#api.replaceNamespacedLease({
        name: this.#o.name,
        namespace: this.#o.namespace,
        body: lease,
      });
    } catch (err) {
      this.#o.log.warn({ err: errText(err) }, 'could not release the lease');
    }
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const { name, namespace, identity } = this.#o;
    const now = microTime();
    const durationSeconds = Math.max(1, Math.ceil(this.#o.leaseDurationMs / 1000));
    let lease: V1Lease;
    try {
      lease = await this.#api.readNamespacedLease({ name, namespace });
    } catch (err) {
      if (!(err instanceof ApiException) || err.code !== 404) throw err;
      const created = await this.#api
        .createNamespacedLease({
          namespace,
          body: {
            metadata: { name, namespace },
            spec: {
              holderIdentity: identity,
              leaseDurationSeconds: durationSeconds,
              acquireTime: now,
              renewTime: now,
              leaseTransitions: 0,
            },
          },
        })
        .catch((createErr: unknown) => {
          // Another candidate created it first: not ours this round.
          if (createErr instanceof ApiException && createErr.code === 409) return false;
          throw createErr;
        });
      return created !== false;
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const record = { holder, renew: String(spec.renewTime ?? '') };
    if (
      !this.#observed ||
      this.#observed.holder !== record.holder ||
      this.#observed.renew !== record.renew
    ) {
      this.#observed = record;
      this.#observedAt = Date.now();
    }
    const heldMs = (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
    if (holder && holder !== identity && this.#observedAt + heldMs > Date.now()) return false;
    const mine = holder === identity;
    lease.spec = {
      ...spec,
      holderIdentity: identity,
      leaseDurationSeconds: durationSeconds,
      renewTime: now,
      acquireTime: mine ? asMicroTime(spec.acquireTime) : now,
      leaseTransitions: (spec.leaseTransitions ?? 0) + (mine ? 0 : 1),
    };
    try {
      await this.#api.replaceNamespacedLease({ name, namespace, body: lease });
    } catch (err) {
      if (err instanceof ApiException && err.code === 409) return false;
      throw err;
    }
    return true;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`lease request took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Dates read back from a Lease, written again with the six digits MicroTime needs. */
function asMicroTime(value: Date | string | undefined): Date | undefined {
  return value === undefined ? undefined : microTime(new Date(value));
}

/** The Kubernetes Status of a refused request (its `message` and `details.kind`), when the body holds one. */
function status(err: ApiException<unknown>): { message?: string; details?: { kind?: string } } {
  try {
    return typeof err.body === 'string' ? JSON.parse(err.body) : ((err.body as object) ?? {});
  } catch {
    return {};
  }
}

/**
 * A sentence naming the fix when the Lease cannot be taken for a reason that
 * waiting will not cure; undefined for anything else (retried quietly).
 */
export function leaseProblem(
  err: unknown,
  lease: { namespace: string; name: string },
): string | undefined {
  if (!(err instanceof ApiException)) return undefined;
  const { namespace, name } = lease;
  const s = status(err);
  const other = 'or choose the Lease namespace with --namespace';
  if (err.code === 404 && s.details?.kind === 'namespaces')
    return `cannot take the leader-election Lease: namespace "${namespace}" does not exist. Create it (kubectl create namespace ${namespace}) ${other}.`;
  if (err.code === 403)
    return `cannot take the leader-election Lease "${name}" in namespace "${namespace}": ${s.message ?? 'forbidden'}. Grant get, create and update on leases there (deploy/rbac.yaml, Role tokenplane-operator-leader-election) ${other}.`;
  if (err.code === 401)
    return 'cannot take the leader-election Lease: the API server rejected the credentials (HTTP 401). Check the kubeconfig user (an expired token?).';
  return undefined;
}

function errText(err: unknown): string {
  if (err instanceof ApiException) return `HTTP ${err.code}: ${String(err.body).slice(0, 200)}`;
  return err instanceof Error ? err.message : String(err);
}
