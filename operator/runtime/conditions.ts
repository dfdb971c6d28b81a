/**
 * `Ready` and `Synced` conditions (Crossplane's pair) with CamelCase reasons.
 * `setCondition` keeps `lastTransitionTime` unless the status flips, so a
 * reconcile that learns nothing new writes nothing new.
 */
import { type Reason, Reasons } from '../../core/external/index.ts';
import type { Condition } from '../crds/schemas.ts';

export type ConditionInput = {
  type: 'Ready' | 'Synced';
  status: 'True' | 'False' | 'Unknown';
  reason: Reason;
  message?: string;
};

export function setCondition(
  conditions: readonly Condition[] | undefined,
  input: ConditionInput,
  generation: number | undefined,
  now: Date = new Date(),
): Condition[] {
  const list = [...(conditions ?? [])];
  const index = list.findIndex((c) => c.type === input.type);
  const previous = index >= 0 ? list[index] : undefined;
  const next: Condition = {
    type: input.type,
    status: input.status,
    reason: input.reason,
    message: (input.message ?? '').slice(0, 4000),
    lastTransitionTime:
      previous && previous.status === input.status
        ? previous.lastTransitionTime
        : now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
  if (index >= 0) list[index] = next;
  else list.push(next);
  return list;
}

export function getCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isReady(obj: { status?: { conditions?: Condition[] } } | undefined): boolean {
  return getCondition(obj?.status?.conditions, 'Ready')?.status === 'True';
}

/** Both conditions for one outcome: ready and synced, or not ready for a reason. */
export function outcome(
  conditions: readonly Condition[] | undefined,
  generation: number | undefined,
  ready: { ok: true; message?: string } | { ok: false; reason: Reason; message: string },
  now?: Date,
): Condition[] {
  const readyCond: ConditionInput = ready.ok
    ? { type: 'Ready', status: 'True', reason: Reasons.Available, message: ready.message ?? '' }
    : { type: 'Ready', status: 'False', reason: ready.reason, message: ready.message };
  const synced: ConditionInput = ready.ok
    ? { type: 'Synced', status: 'True', reason: Reasons.ReconcileSuccess, message: '' }
    : { type: 'Synced', status: 'False', reason: Reasons.ReconcileError, message: ready.message };
  return setCondition(
    setCondition(conditions, readyCond, generation, now),
    synced,
    generation,
    now,
  );
}
