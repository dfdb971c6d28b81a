/**
 * The Entity dynamic provider: a thin driver of the executor
 * (core/external/executor.ts), which the Kubernetes operator drives too.
 * `check` = zod parse + the planner's tier judgement; `diff` asks the planner's
 * next action; `create` and `update` are runs of the executor.
 */
import type * as pulumi from '@pulumi/pulumi';
import {
  type EntityDeclaration,
  type EntityRun,
  type EntitySight,
  type FieldChange,
  nextEntityAction,
  settleEntity,
} from '../../core/external/index.ts';
import type { Entity } from '../../core/schemas/index.ts';
import { PlanError } from './config.ts';
import { type Platform, withPlatform } from './context.ts';
import { EntityInputs, isUnknown, known, parseInputs } from './inputs.ts';
import { identityOf, urnKey } from './keys.ts';

export type EntityOutputs = {
  displayName: string;
  kind: Entity['kind'];
  tier: string;
  parentId: string | null;
  defaultToken: boolean;
  entityId: string;
  tokenQuota: number;
  defaultTokenId: string | null;
};

/** The inputs `check` hands on: the program's, and the digest of the URN (keys.ts). */
type Inputs = EntityInputs & { __key?: unknown };
/** The state: the outputs of the last step. */
type State = Partial<EntityOutputs>;

function declarationOf(news: Inputs): EntityDeclaration {
  return {
    desired: {
      name: news.displayName,
      kind: news.kind,
      tier: news.tier,
      parentId: news.parentId ?? null,
      defaultToken: news.defaultToken !== false,
    },
  };
}

/**
 * What the executor needs: the idempotency keys derive from the URN and the
 * declaration (provider/impl/keys.ts); the parent is read from the platform
 * when the tier rules need it (no cache here).
 */
function runOf(p: Platform, news: Inputs, sight: Partial<EntitySight> = {}): EntityRun {
  const declaration = declarationOf(news);
  return {
    entities: p.entities,
    declaration,
    identity: identityOf(news, declaration.desired),
    sight: { tiers: p.tiers, parent: 'read', ...sight },
  };
}

function outputsOf(
  actual: Entity,
  given: { defaultToken?: boolean | undefined },
  defaultTokenId: string | null,
): EntityOutputs {
  return {
    displayName: actual.name,
    kind: actual.kind,
    tier: actual.tier,
    parentId: actual.parentId,
    defaultToken: given.defaultToken !== false,
    entityId: actual.id,
    tokenQuota: actual.tokenQuota,
    defaultTokenId,
  };
}

const label = (given: { displayName?: string | undefined }) =>
  known(given.displayName) ? `Entity "${given.displayName}"` : 'Entity';

export const entityProvider: pulumi.dynamic.ResourceProvider = {
  async check(_olds: Partial<Inputs>, news: Record<string, unknown>) {
    const inputs = { ...news, __key: urnKey(news) };
    const { value, failures } = parseInputs(EntityInputs, news);
    if (!value) return { inputs, failures };
    if (isUnknown(value.tier)) return { inputs, failures: [] };
    const refusal = await withPlatform(`${label(value)}: check`, async (p) => {
      // A parent still unknown at preview is judged when it is known.
      const parent = known(value.parentId) ? 'read' : undefined;
      const [plan] = await Promise.all([
        nextEntityAction(runOf(p, value, { parent })),
        p.verifyCredential(),
      ]);
      return plan.action === 'refuse' ? plan : null;
    });
    if (!refusal) return { inputs, failures: [] };
    const property = refusal.field ?? 'tier';
    return { inputs, failures: [{ property, reason: `${property}: ${refusal.message}` }] };
  },

  async diff(id: string, olds: State, news: Inputs) {
    const replaces: string[] = [];
    for (const field of ['kind', 'parentId'] as const) {
      if (isUnknown(news[field])) replaces.push(field);
    }
    if (replaces.length > 0) return { changes: true, replaces };
    return withPlatform(`${label(news)}: diff`, async (p) => {
      const plan = await nextEntityAction(runOf(p, news, { heldId: id }));
      // Deleted on the platform since the last run: create it again.
      if (plan.action === 'create') return { changes: true, replaces: ['entityId'] };
      if (plan.action === 'replace') {
        const fields = plan.changes.filter((c) => c.action === 'replace' && !isUnknown(c.to));
        return { changes: true, replaces: fields.map(fieldName) };
      }
      // A tier change the rules forbid is reported at preview.
      if (plan.action === 'refuse') throw new PlanError(plan.message);
      const defaultTokenChanged = (olds.defaultToken !== false) !== (news.defaultToken !== false);
      return { changes: plan.action === 'update' || defaultTokenChanged };
    });
  },

  async create(inputs: Inputs) {
    return withPlatform(`Could not create ${label(inputs)}`, async (p) => {
      let defaultTokenId: string | null = null;
      const run = await settleEntity(runOf(p, inputs), {
        created: (made) => {
          defaultTokenId = made.defaultToken?.id ?? null;
        },
      });
      if ('refused' in run) throw new PlanError(run.refused.message);
      return { id: run.settled.id, outs: outputsOf(run.settled, inputs, defaultTokenId) };
    });
  },

  async read(id: string, props: State = {}) {
    return withPlatform(`Could not read Entity ${id}`, async (p) => {
      const entity = await p.entities.find(id);
      // Gone from the platform: drop it from the state; the next `up` creates it again.
      if (!entity) return {};
      const outs = outputsOf(entity, props, props.defaultTokenId ?? null);
      return { id, props: { ...props, ...outs } };
    });
  },

  async update(id: string, olds: State, news: Inputs) {
    return withPlatform(`Could not update ${label(news)}`, async (p) => {
      const run = await settleEntity(runOf(p, news, { heldId: id }), {
        creating: () => {
          throw new PlanError(`entity ${id} no longer exists; run \`pulumi refresh\``);
        },
      });
      if ('refused' in run) throw new PlanError(run.refused.message);
      return { outs: outputsOf(run.settled, news, olds.defaultTokenId ?? null) };
    });
  },

  async delete(id: string, props: State) {
    await withPlatform(`Could not delete ${label(props)}`, (p) => p.entities.delete(id));
  },
};

const fieldName = (c: FieldChange) => (c.field === 'name' ? 'displayName' : c.field);
