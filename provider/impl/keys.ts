/**
 * Idempotency identities for the provider's creates: the resource's URN and a
 * digest of what is created — the same across a crash and a rerun of the same
 * operation, different for anything else.
 *
 * A dynamic provider's `create` is not told the URN, so the program passes it
 * as the hidden `__key` input (provider/index.ts), which `check` shortens to a
 * digest kept with the inputs.
 *
 * - A `pulumi up` killed after the platform's answer but before the state write,
 *   run again with the same program, sends the same key: the platform replays
 *   its first answer and nothing is issued twice.
 * - A replacement creates something else (another parent, another entity: the
 *   reason it is replaced), so it gets a key of its own. Pulumi checks a
 *   replacement without the old inputs, so nothing else would tell it apart.
 * - A URN that comes back with the same inputs after its object was deleted
 *   (destroy, refresh) sends its first key again: the platform answers 410
 *   idempotency-gone, and the planner moves on to the next key (`createOrGone`).
 *
 * Not covered: a crashed create rerun with changed inputs issues anew (the key
 * differs), and a forced replacement (`--target-replace`) with unchanged inputs
 * gets the existing object back.
 */
import { createHash, randomUUID } from 'node:crypto';
import { isUnknown } from './inputs.ts';

type Inputs = Record<string, unknown>;

const digest = (text: string) => createHash('sha256').update(text).digest('base64url').slice(0, 22);

/** The `__key` input `check` stores: a digest of the URN the program passes. */
export function urnKey(news: Inputs): unknown {
  return typeof news.__key === 'string' && !isUnknown(news.__key) ? digest(news.__key) : news.__key;
}

/** The identity the planner derives keys from; random for inputs stored before keys existed. */
export function identityOf(inputs: Inputs, body: object): string {
  const urn = typeof inputs.__key === 'string' ? inputs.__key : randomUUID();
  return `pulumi:${urn}:${digest(JSON.stringify(body))}`;
}
