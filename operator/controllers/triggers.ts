/**
 * What an informer event asks of the controllers (controller-runtime's
 * predicates and map functions): which keys to enqueue, and which events to
 * ignore. Kept apart from the wiring so that it can be read, and tested, alone.
 *
 * - An Entity or ApiToken is reconciled on first sight, on a spec change
 *   (generation) and on deletion — never because of our own status writes.
 * - An Entity whose id, tier or readiness changed enqueues its ApiTokens and
 *   its child Entities: they wait on it, or were refused because of it.
 * - A managed Secret enqueues its ApiToken when it is deleted, or when its
 *   value no longer matches the digest we wrote (someone edited it).
 */
import type { ApiTokenObject, EntityObject } from '../crds/schemas.ts';
import type { WatchHandlers } from '../runtime/informer.ts';
import { RefIndex } from './ref-index.ts';
import { OWNER_LABEL, type SecretView, tampered } from './secret.ts';

type Enqueue = (namespace: string, name: string) => void;
type Named = { metadata: { namespace: string; name: string } };

export type TriggerTargets = {
  enqueueEntity: Enqueue;
  enqueueToken: Enqueue;
};

export class Triggers {
  readonly #t: TriggerTargets;
  /** Per object, the generation and deletion mark last acted on. */
  readonly #seen = new Map<string, string>();
  /** Per Entity, the status its dependents last saw. */
  readonly #entityState = new Map<string, string>();
  /** ApiTokens by the Entity they name (`entityOf`); Entities by their parent. */
  readonly #tokensOf = new RefIndex();
  readonly #childrenOf = new RefIndex();

  constructor(targets: TriggerTargets) {
    this.#t = targets;
  }

  readonly entity: WatchHandlers<EntityObject> = {
    add: (e) => {
      this.#childrenOf.set(e.metadata.namespace, e.metadata.name, e.spec.parentRef?.name);
      this.#changed('Entity', e);
      this.#t.enqueueEntity(e.metadata.namespace, e.metadata.name);
      this.#dependents(e);
    },
    update: (e) => {
      this.#childrenOf.set(e.metadata.namespace, e.metadata.name, e.spec.parentRef?.name);
      if (this.#changed('Entity', e)) this.#t.enqueueEntity(e.metadata.namespace, e.metadata.name);
      this.#dependents(e);
    },
    delete: (e) => {
      this.#childrenOf.set(e.metadata.namespace, e.metadata.name, undefined);
      this.#entityState.delete(keyOf('', e));
      this.#seen.delete(keyOf('Entity', e));
    },
  };

  readonly token: WatchHandlers<ApiTokenObject> = {
    add: (t) => {
      this.#tokensOf.set(t.metadata.namespace, t.metadata.name, entityOf(t));
      this.#changed('ApiToken', t);
      this.#t.enqueueToken(t.metadata.namespace, t.metadata.name);
    },
    update: (t) => {
      this.#tokensOf.set(t.metadata.namespace, t.metadata.name, entityOf(t));
      if (this.#changed('ApiToken', t)) this.#t.enqueueToken(t.metadata.namespace, t.metadata.name);
    },
    delete: (t) => {
      this.#tokensOf.set(t.metadata.namespace, t.metadata.name, undefined);
      this.#seen.delete(keyOf('ApiToken', t));
    },
  };

  readonly secret: WatchHandlers<SecretView> = {
    delete: (s) => this.#owner(s),
    update: (s) => {
      if (tampered(s)) this.#owner(s);
    },
  };

  /** The names of the ApiTokens in `namespace` whose entity is `entity` (see `entityOf`). */
  tokensOf(namespace: string, entity: string): string[] {
    return this.#tokensOf.of(namespace, entity);
  }

  /** Only spec, deletion and first sight matter; our own status writes do not re-trigger. */
  #changed(kind: string, obj: EntityObject | ApiTokenObject): boolean {
    const key = keyOf(kind, obj);
    const mark = `${obj.metadata.generation}/${obj.metadata.deletionTimestamp ? 'd' : ''}`;
    if (this.#seen.get(key) === mark) return false;
    this.#seen.set(key, mark);
    return true;
  }

  #dependents(e: EntityObject): void {
    const state = JSON.stringify([
      e.status?.id,
      e.status?.tier,
      e.status?.conditions?.find((c) => c.type === 'Ready')?.status,
    ]);
    if (this.#entityState.get(keyOf('', e)) === state) return;
    this.#entityState.set(keyOf('', e), state);
    const { namespace, name } = e.metadata;
    for (const token of this.#tokensOf.of(namespace, name)) this.#t.enqueueToken(namespace, token);
    for (const child of this.#childrenOf.of(namespace, name))
      this.#t.enqueueEntity(namespace, child);
  }

  #owner(s: SecretView): void {
    const owner = s.metadata.labels?.[OWNER_LABEL];
    if (owner) this.#t.enqueueToken(s.metadata.namespace, owner);
  }
}

/**
 * The entity an ApiToken belongs to, as the index keys it: the Entity it names
 * (`entityRef`), else `#` and the platform id (`entityId`; no object name has a `#`).
 */
export const entityOf = (t: ApiTokenObject): string | undefined =>
  t.spec.entityRef?.name ?? (t.spec.entityId ? `#${t.spec.entityId}` : undefined);

const keyOf = (kind: string, obj: Named) =>
  `${kind}/${obj.metadata.namespace}/${obj.metadata.name}`;
