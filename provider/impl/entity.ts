/**
 * The Entity dynamic provider: a thin driver of EntityExternal (the same
 * facts/create/update/delete contract the Kubernetes operator uses).
 * `check` = zod parse + the planner's tier judgement; `diff`, `create`, `update`
 * carry out what the planner (platform/external/plan-entity.ts) decides.
 */
import type * as pulumi from '@pulumi/pulumi';
import {
  createOrGone,
  type DesiredEntity,
  type EntityDeclaration,
  type EntityFacts,
  type FieldChange,
  type ParentFacts,
  planEntity,
} from '../../platform/external/index.ts';
import type { CreateEntityResponse, Entity } from '../../platform/schemas/index.ts';
import { PlanError } from './config.ts';
import { type Platform, withPlatform } from './context.ts';
import { EntityInputs, isUnknown, parseInputs } from './inputs.ts';
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

type Inputs = Record<string, unknown>;

function declarationOf(news: Inputs): EntityDeclaration {
  return {
    desired: {
      name: news.displayName as string,
      kind: news.kind as DesiredEntity['kind'],
      tier: news.tier as string,
      parentId: (news.parentId as string | undefined) ?? null,
      defaultToken: news.defaultToken !== false,
    },
  };
}

function outputsOf(
  actual: Entity | CreateEntityResponse,
  news: Inputs,
  defaultTokenId: string | null,
): EntityOutputs {
  return {
    displayName: actual.name,
    kind: actual.kind,
    tier: actual.tier,
    parentId: actual.parentId,
    defaultToken: news.defaultToken !== false,
    entityId: actual.id,
    tokenQuota: actual.tokenQuota,
    defaultTokenId,
  };
}

/** What the entity's idempotency keys derive from (provider/impl/keys.ts). */
const identityFor = (inputs: Inputs) => identityOf(inputs, declarationOf(inputs).desired);

const label = (news: Inputs) =>
  typeof news.displayName === 'string' && !isUnknown(news.displayName)
    ? `Entity "${news.displayName}"`
    : 'Entity';

export const entityProvider: pulumi.dynamic.ResourceProvider = {
  async check(_olds: Inputs, news: Inputs) {
    const inputs = { ...news, __key: urnKey(news) };
    const { value, failures } = parseInputs(EntityInputs, news);
    if (!value) return { inputs, failures };
    if (isUnknown(value.tier)) return { inputs, failures: [] };
    const refusal = await withPlatform(`${label(news)}: check`, async (p) => {
      const [tiers] = await Promise.all([p.tiers(), p.verifyCredential()]);
      const parent = value.parentId && !isUnknown(value.parentId) ? value.parentId : undefined;
      const facts: EntityFacts = {
        tiers,
        parent: parent ? await parentFacts(p, parent) : undefined,
      };
      const plan = planEntity(declarationOf(news), facts, identityFor(inputs));
      return plan.action === 'refuse' ? plan : null;
    });
    if (!refusal) return { inputs, failures: [] };
    const property = refusal.field ?? 'tier';
    return { inputs, failures: [{ property, reason: `${property}: ${refusal.message}` }] };
  },

  async diff(id: string, olds: Inputs, news: Inputs) {
    const replaces: string[] = [];
    for (const field of ['kind', 'parentId'] as const) {
      if (isUnknown(news[field])) replaces.push(field);
    }
    if (replaces.length > 0) return { changes: true, replaces };
    const declaration = declarationOf(news);
    return withPlatform(`${label(news)}: diff`, async (p) => {
      const plan = planEntity(declaration, await observe(p, id, declaration), identityFor(news));
      // Deleted on the platform since the last run: create it again.
      if (plan.action === 'create') return { changes: true, replaces: ['entityId'] };
      if (plan.action === 'replace') {
        const fields = plan.changes.filter((c) => c.action === 'replace' && !isUnknown(c.to));
        return { changes: true, replaces: fields.map(fieldName) };
      }
      // A tier change the rules forbid is reported at preview.
      if (plan.action === 'refuse') throw new PlanError(plan.message);
      const defaultTokenChanged =
        (olds.defaultToken !== false) !== declaration.desired.defaultToken;
      return { changes: plan.action === 'update' || defaultTokenChanged };
    });
  },

  async create(inputs: Inputs) {
    const declaration = declarationOf(inputs);
    return withPlatform(`Could not create ${label(inputs)}`, async (p) => {
      const facts: EntityFacts = { tiers: await p.tiers() };
      for (let i = 0; i < MAX_ACTIONS; i++) {
        const plan = planEntity(declaration, facts, identityFor(inputs));
        if (plan.action === 'refuse') throw new PlanError(plan.message);
        if (plan.action !== 'create') break;
        const made = await createOrGone(
          p.entities,
          declaration.desired,
          plan.idempotencyKey,
          'entity',
        );
        if ('gone' in made) {
          facts.held = made;
          continue;
        }
        const created = made.created;
        const outs = outputsOf(created, inputs, created.defaultToken?.id ?? null);
        return { id: created.id, outs };
      }
      throw new PlanError('the entity planner did not settle; run `pulumi up` again');
    });
  },

  async read(id: string, props?: Inputs) {
    return withPlatform(`Could not read Entity ${id}`, async (p) => {
      const { held } = await p.entities.facts(id, undefined);
      // Gone from the platform: drop it from the state; the next `up` creates it again.
      if (!held || 'gone' in held) return {};
      const defaultTokenId = (props?.defaultTokenId as string | null | undefined) ?? null;
      return { id, props: { ...props, ...outputsOf(held.entity, props ?? {}, defaultTokenId) } };
    });
  },

  async update(id: string, olds: Inputs, news: Inputs) {
    const declaration = declarationOf(news);
    return withPlatform(`Could not update ${label(news)}`, async (p) => {
      const plan = planEntity(declaration, await observe(p, id, declaration), identityFor(news));
      if (plan.action === 'create')
        throw new PlanError(`entity ${id} no longer exists; run \`pulumi refresh\``);
      if (plan.action === 'refuse' || plan.action === 'replace') throw new PlanError(plan.message);
      if (plan.action === 'adopt') throw new PlanError('cannot adopt here');
      const actual =
        plan.action === 'update' ? await p.entities.update(id, plan.changes) : plan.entity;
      const defaultTokenId = (olds.defaultTokenId as string | null | undefined) ?? null;
      return { outs: outputsOf(actual, news, defaultTokenId) };
    });
  },

  async delete(id: string, props: Inputs) {
    await withPlatform(`Could not delete ${label(props)}`, (p) => p.entities.delete(id));
  },
};

/** A replayed create of a removed entity, then the create under the next key. */
const MAX_ACTIONS = 3;

const fieldName = (c: FieldChange) => (c.field === 'name' ? 'displayName' : c.field);

/**
 * The held entity, and — when its tier is to change — what the tier rules need:
 * the parent (ceiling) and the children's tiers (a parent may not drop below them).
 */
async function observe(
  p: Platform,
  id: string,
  declaration: EntityDeclaration,
): Promise<EntityFacts> {
  const [tiers, { held }] = await Promise.all([p.tiers(), p.entities.facts(id, undefined)]);
  const facts: EntityFacts = { tiers, held };
  if (!held || 'gone' in held || held.entity.tier === declaration.desired.tier) return facts;
  const { entity } = held;
  if (entity.parentId) facts.parent = await parentFacts(p, entity.parentId);
  if (entity.kind === 'reseller') {
    const children = await p.client.listAllEntities({ parentId: entity.id });
    facts.childTiers = children.map((c) => c.tier);
  }
  return facts;
}

async function parentFacts(p: Platform, id: string): Promise<ParentFacts | null> {
  const parent = await p.entities.find(id);
  return parent && { name: parent.name, tier: parent.tier, kind: parent.kind };
}
