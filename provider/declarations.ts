/**
 * Program-side registry of what a Pulumi program declares, for the plan-time
 * quota check (see provider/impl/quota.ts for the provider side).
 *
 * ApiTokens are grouped by the Entity they belong to. The grouping key is the
 * Entity *resource* when `entityId` is an Entity's `entityId` (or `id`) output —
 * at preview a new entity's id is unknown, so values cannot be compared — and
 * the id itself when `entityId` is a plain string. Any other Output (e.g. one
 * made with `apply`) cannot be traced to an entity: such a token forms a group
 * of its own and only the platform's quota applies to it.
 *
 * Each token's `__declaration` input resolves after the program's synchronous
 * declarations (on `setImmediate`), so it lists every sibling declared at the
 * top level of the program; a token declared later sees those declared before it.
 */
import * as pulumi from '@pulumi/pulumi';

export type EntityDeclaration = {
  label: string;
  tier: pulumi.Input<string>;
  defaultToken: pulumi.Input<boolean> | undefined;
};

type Group = {
  key: string;
  label: string;
  entity: EntityDeclaration | undefined;
  members: string[];
  adopters: pulumi.Input<boolean>[];
};

const entityByOutput = new WeakMap<object, EntityDeclaration>();

/**
 * Groups of the current program run. Inline programs of the Automation API run
 * several times in one process, so the registry is kept per run (each run has its
 * own resource-monitor client).
 */
type RunState = {
  byEntity: WeakMap<EntityDeclaration, Group>;
  byId: Map<string, Group>;
  counter: number;
};
const runs = new WeakMap<object, RunState>();
const noMonitor = {};

function run(): RunState {
  const key = pulumi.runtime.getMonitor() ?? noMonitor;
  let state = runs.get(key);
  if (!state) {
    state = { byEntity: new WeakMap(), byId: new Map(), counter: 0 };
    runs.set(key, state);
  }
  return state;
}

/** Called by the Entity class: its `entityId` output identifies it to its tokens. */
export function declareEntity(entityId: pulumi.Output<string>, entity: EntityDeclaration): void {
  entityByOutput.set(entityId, entity);
}

export type TokenDeclaration = {
  entityId: pulumi.Input<string>;
  adoptDefaultToken?: pulumi.Input<boolean> | undefined;
};

/** Registers a token; returns its `__declaration` input. */
export function declareToken(
  name: string,
  args: TokenDeclaration,
): Promise<Record<string, unknown>> {
  const group = groupOf(name, args.entityId);
  group.members.push(name);
  if (args.adoptDefaultToken !== undefined) group.adopters.push(args.adoptDefaultToken);
  return new Promise((resolve) =>
    setImmediate(() =>
      resolve({
        self: name,
        group: group.key,
        entity: group.label,
        members: [...group.members],
        ...(group.entity
          ? {
              tier: group.entity.tier,
              entityDefaultToken: group.entity.defaultToken ?? true,
            }
          : {}),
        defaultAdopted: pulumi
          .all(group.adopters)
          .apply((flags) => flags.some((flag) => flag === true)),
      }),
    ),
  );
}

function groupOf(name: string, entityId: pulumi.Input<string>): Group {
  const state = run();
  if (typeof entityId === 'string') {
    let group = state.byId.get(entityId);
    if (!group) {
      group = {
        key: `id:${entityId}`,
        label: entityId,
        entity: undefined,
        members: [],
        adopters: [],
      };
      state.byId.set(entityId, group);
    }
    return group;
  }
  const entity = entityByOutput.get(entityId as object);
  if (!entity) {
    return {
      key: `token:${name}#${++state.counter}`,
      label: name,
      entity: undefined,
      members: [],
      adopters: [],
    };
  }
  let group = state.byEntity.get(entity);
  if (!group) {
    group = {
      key: `entity:${entity.label}#${++state.counter}`,
      label: entity.label,
      entity,
      members: [],
      adopters: [],
    };
    state.byEntity.set(entity, group);
  }
  return group;
}
