/**
 * The Entity dynamic provider: a thin driver of EntityExternal (the same
 * observe/create/update/delete contract the Kubernetes operator uses).
 * `read` ≈ observe, `diff` ≈ entityChanges against the platform, `check` = zod parse.
 */
import { randomUUID } from 'node:crypto';
import type * as pulumi from '@pulumi/pulumi';
import {
  checkCeiling,
  checkDowngradeQuota,
  checkParentDowngrade,
} from '../../platform/domain/index.ts';
import {
  type DesiredEntity,
  describeChanges,
  type FieldChange,
  needsReplace,
} from '../../platform/external/index.ts';
import type { CreateEntityResponse, Entity } from '../../platform/schemas/index.ts';
import { PlanError } from './config.ts';
import { type Platform, withPlatform } from './context.ts';
import { type CheckFailure, EntityInputs, isUnknown, parseInputs } from './inputs.ts';

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

function desiredOf(news: Inputs): DesiredEntity {
  return {
    name: news.displayName as string,
    kind: news.kind as DesiredEntity['kind'],
    tier: news.tier as string,
    parentId: (news.parentId as string | undefined) ?? null,
    defaultToken: news.defaultToken !== false,
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

const label = (news: Inputs) =>
  typeof news.displayName === 'string' && !isUnknown(news.displayName)
    ? `Entity "${news.displayName}"`
    : 'Entity';

export const entityProvider: pulumi.dynamic.ResourceProvider = {
  async check(_olds: Inputs, news: Inputs) {
    const { value, failures } = parseInputs(EntityInputs, news);
    if (!value) return { inputs: news, failures };
    const more: CheckFailure[] = await withPlatform(`${label(news)}: check`, async (p) => {
      const [tiers] = await Promise.all([p.tiers(), p.verifyCredential()]);
      const out: CheckFailure[] = [];
      if (!isUnknown(value.tier) && !tiers.find(value.tier)) {
        out.push({
          property: 'tier',
          reason: `tier: "${value.tier}" is not a tier of this platform; allowed: ${tiers.names.join(', ')}`,
        });
        return out;
      }
      if (value.parentId && !isUnknown(value.parentId)) {
        const parent = await p.entities.find(value.parentId);
        if (!parent) {
          out.push({
            property: 'parentId',
            reason: `parentId: no entity ${value.parentId} exists (or it is outside the API key's reach)`,
          });
        } else if (parent.kind !== 'reseller') {
          out.push({
            property: 'parentId',
            reason: `parentId: entity "${parent.name}" is a customer; only resellers have children`,
          });
        } else if (!isUnknown(value.tier)) {
          const ceiling = checkCeiling(tiers, value.tier, parent.tier, `parent "${parent.name}"`);
          if (ceiling) out.push({ property: 'tier', reason: `tier: ${ceiling.detail}` });
        }
      }
      return out;
    });
    return { inputs: news, failures: more };
  },

  async diff(id: string, olds: Inputs, news: Inputs) {
    const replaces: string[] = [];
    for (const field of ['kind', 'parentId'] as const) {
      if (isUnknown(news[field])) replaces.push(field);
    }
    if (replaces.length > 0) return { changes: true, replaces };
    const desired = desiredOf(news);
    return withPlatform(`${label(news)}: diff`, async (p) => {
      const seen = await p.entities.observe(id, desired);
      // Deleted on the platform since the last run: create it again.
      if (!seen.exists) return { changes: true, replaces: ['entityId'] };
      const changes = seen.changes.filter((c) => !isUnknown(c.to));
      const unknownUpdate = ['displayName', 'tier'].some((f) => isUnknown(news[f]));
      if (needsReplace(changes)) {
        return {
          changes: true,
          replaces: changes.filter((c) => c.action === 'replace').map(fieldName),
        };
      }
      const tierChange = changes.find((c) => c.field === 'tier');
      if (tierChange) await guardTierChange(p, seen.actual, desired.tier);
      const defaultTokenChanged = (olds.defaultToken !== false) !== desired.defaultToken;
      return { changes: changes.length > 0 || unknownUpdate || defaultTokenChanged };
    });
  },

  async create(inputs: Inputs) {
    const desired = desiredOf(inputs);
    return withPlatform(`Could not create ${label(inputs)}`, async (p) => {
      // One key per create: the client repeats the request with it on timeouts and
      // 5xx, and the platform answers a repeat with the first result.
      const created = await p.entities.create(desired, `pulumi-entity-${randomUUID()}`);
      const outs = outputsOf(created, inputs, created.defaultToken?.id ?? null);
      return { id: created.id, outs };
    });
  },

  async read(id: string, props?: Inputs) {
    return withPlatform(`Could not read Entity ${id}`, async (p) => {
      const actual = await p.entities.find(id);
      // Gone from the platform: drop it from the state; the next `up` creates it again.
      if (!actual) return {};
      const defaultTokenId = (props?.defaultTokenId as string | null | undefined) ?? null;
      return { id, props: { ...props, ...outputsOf(actual, props ?? {}, defaultTokenId) } };
    });
  },

  async update(id: string, olds: Inputs, news: Inputs) {
    const desired = desiredOf(news);
    return withPlatform(`Could not update ${label(news)}`, async (p) => {
      const seen = await p.entities.observe(id, desired);
      if (!seen.exists)
        throw new PlanError(`entity ${id} no longer exists; run \`pulumi refresh\``);
      let actual = seen.actual;
      if (seen.changes.length > 0) {
        if (needsReplace(seen.changes)) {
          throw new PlanError(`cannot change ${describeChanges(seen.changes)} in place`);
        }
        actual = await p.entities.update(id, seen.changes);
      }
      const defaultTokenId = (olds.defaultTokenId as string | null | undefined) ?? null;
      return { outs: outputsOf(actual, news, defaultTokenId) };
    });
  },

  async delete(id: string, props: Inputs) {
    await withPlatform(`Could not delete ${label(props)}`, (p) => p.entities.delete(id));
  },
};

const fieldName = (c: FieldChange) => (c.field === 'name' ? 'displayName' : c.field);

/**
 * A tier change obeys the same rules the platform enforces, reported at preview:
 * the ceiling of the parent, the children below, and the quota of the new tier.
 */
async function guardTierChange(p: Platform, actual: Entity, tier: string): Promise<void> {
  const tiers = await p.tiers();
  const name = `entity "${actual.name}"`;
  const quota = checkDowngradeQuota(tiers, tier, actual.tokenCount, name);
  if (quota) throw new PlanError(quota.detail);
  if (actual.parentId) {
    const parent = await p.entities.find(actual.parentId);
    const ceiling = parent && checkCeiling(tiers, tier, parent.tier, `parent "${parent.name}"`);
    if (ceiling) throw new PlanError(ceiling.detail);
  }
  if (actual.kind === 'reseller') {
    const children = await p.client.listAllEntities({ parentId: actual.id });
    const below = checkParentDowngrade(
      tiers,
      tier,
      children.map((c) => c.tier),
      name,
    );
    if (below) throw new PlanError(below.detail);
  }
}
