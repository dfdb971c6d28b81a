/**
 * Idempotency identities for the provider's creates, stable across a crash and
 * a retry of the same operation, different for every other create.
 *
 * A dynamic provider's `create` is not told the resource's URN, so the program
 * passes it as the hidden `__key` input (provider/index.ts) and `check` — which
 * sees the previous inputs — turns it into a chain stored with the inputs:
 *
 * - a new resource (no previous inputs): hash(URN). A `pulumi up` killed after
 *   the platform's answer but before the state write leaves no inputs behind,
 *   so the rerun derives the same identity, the platform replays its first
 *   answer, and nothing is issued twice;
 * - an existing resource: hash(previous identity). A replacement is created
 *   under an identity never used for a create before; killed and rerun, the
 *   old resource's inputs are still in the state, so again the same identity.
 *
 * A URN that comes back after its resource was deleted (destroy, refresh) gets
 * its first identity again: the platform answers 410 idempotency-gone (what
 * that key created was removed), and the planner moves on to the next key
 * (`createOrGone`).
 */
import { createHash, randomUUID } from 'node:crypto';
import { isUnknown } from './inputs.ts';

type Inputs = Record<string, unknown>;

const chain = (text: string) => createHash('sha256').update(text).digest('base64url').slice(0, 22);

/** The `__key` input `check` stores: derived from the previous one, or from the URN. */
export function nextIdentity(olds: Inputs, news: Inputs): unknown {
  if (typeof olds.__key === 'string') return chain(olds.__key);
  if (typeof news.__key === 'string' && !isUnknown(news.__key)) return chain(news.__key);
  return news.__key;
}

/** The identity the planner derives keys from; random for inputs stored before keys existed. */
export function identityOf(inputs: Inputs): string {
  return `pulumi:${typeof inputs.__key === 'string' ? inputs.__key : randomUUID()}`;
}
