/**
 * Plan-time quota for the ApiToken provider, and how the checks of sibling
 * tokens see each other:
 * - The program side (provider/declarations.ts) groups ApiTokens by the Entity
 *   they name — by resource identity, because at preview a new entity's id is
 *   still unknown — and passes every token a `__declaration` input: the group,
 *   the names of all its members, the entity's declared tier and `defaultToken`,
 *   and whether any member adopts the default token. So the first token checked
 *   already knows how many tokens the program declares for its entity.
 * - The engine runs `check` one resource at a time, in registration order, in one
 *   provider process. Each check records here what it learnt about its own
 *   declaration (already managed? adopts an existing token?); with the tokens
 *   the platform held for the entity when this process first looked (one read
 *   per entity and operation, see entityAsFirstSeen), planQuota (core/external) computes a
 *   lower bound of what the entity will hold and fails only when that bound is
 *   over the quota. The last member checked sees every sibling, so the bound is
 *   then exact. Tokens created or adopted by this process (during `up`, creates
 *   run while later siblings are still being checked) are claimed by their
 *   declarations and never counted twice.
 * The state lives in the provider process only, for one operation.
 */
import { z } from 'zod';
import {
  type CheckedDeclaration,
  type DesiredToken,
  planQuota,
  TokenExternal,
} from '../../core/external/index.ts';
import type { Entity, TokenWithValue } from '../../core/schemas/index.ts';
import type { Platform } from './context.ts';
import { type ApiTokenInputs, type CheckFailure, isUnknown, known } from './inputs.ts';

/** A value still unknown at preview, or of another type, counts as not given. */
const given = <T extends z.ZodType>(schema: T) =>
  schema
    .refine((v) => !isUnknown(v))
    .optional()
    .catch(undefined);

/** The `__declaration` input the ApiToken class computes in the program (provider/declarations.ts). */
const Declaration = z
  .object({
    self: z.string(),
    group: z.string(),
    /** How a person knows the entity (its resource name, or its id). */
    entity: z.string().optional().catch(undefined),
    members: z.array(z.string()),
    tier: given(z.string()),
    entityDefaultToken: given(z.boolean()),
    defaultAdopted: given(z.boolean()),
  })
  .transform((d) => ({ ...d, entity: d.entity ?? d.group }));
export type Declaration = z.infer<typeof Declaration>;

/** The declaration, or null when the program passed none that is whole (an older program). */
export function readDeclaration(raw: unknown): Declaration | null {
  const parsed = Declaration.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

/** What this process learnt: per group, each checked declaration. */
const checked = new Map<string, Map<string, CheckedDeclaration>>();
/** Per entity, the tokens this process created or adopted (claimed by their declarations). */
const claimedHere = new Map<string, Set<string>>();
/** Creates under way in this process (their ids are not known yet). */
let creating = 0;

export function claim(entityId: string, tokenId: string): void {
  const ids = claimedHere.get(entityId) ?? new Set<string>();
  ids.add(tokenId);
  claimedHere.set(entityId, ids);
}

/** A token this process deleted is no one's any more. */
export function unclaim(tokenId: string): void {
  for (const ids of claimedHere.values()) ids.delete(tokenId);
}

/** TokenExternal whose creates are counted while under way, and claimed once made. */
export class ClaimingTokens extends TokenExternal {
  override async create(desired: DesiredToken, idempotencyKey: string): Promise<TokenWithValue> {
    creating++;
    try {
      const made = await super.create(desired, idempotencyKey);
      claim(made.entityId, made.id);
      return made;
    } finally {
      creating--;
    }
  }
}

type FirstSeen = { entity: Entity; unclaimed: number };
/**
 * Per entity, the platform as the first check of this process saw it: the entity,
 * and its tokens that no declaration had claimed then. Checks run one at a time
 * on the engine's critical path, so one read per entity and operation rather than
 * one per token; and every check of an `up` judges the plan against the platform
 * as it was before the operation changed it — the view `preview` had.
 */
const firstSeen = new Map<string, Promise<FirstSeen | null>>();

function entityAsFirstSeen(p: Platform, entityId: string): Promise<FirstSeen | null> {
  let seen = firstSeen.get(entityId);
  if (!seen) {
    seen = p.entities.find(entityId).then((entity) => {
      if (!entity) return null;
      // Tokens this process created or adopted for the entity (or is creating)
      // belong to declarations counted already.
      const claimed = (claimedHere.get(entity.id)?.size ?? 0) + creating;
      return { entity, unclaimed: Math.max(0, entity.tokenCount - claimed) };
    });
    firstSeen.set(entityId, seen);
    // Not found (yet), or failed: ask again next time.
    const forget = () => firstSeen.delete(entityId);
    seen.then((s) => s ?? forget(), forget);
  }
  return seen;
}

const entityIdOf = (news: ApiTokenInputs) => (isUnknown(news.entityId) ? null : news.entityId);

/** The entity's tier: as the program declares it, else the platform's as first seen. */
export async function entityTier(
  p: Platform,
  declaration: Declaration,
  news: ApiTokenInputs,
): Promise<string | undefined> {
  const entityId = entityIdOf(news);
  return (
    declaration.tier ?? (entityId ? (await entityAsFirstSeen(p, entityId))?.entity.tier : undefined)
  );
}

/** Whether a new declaration takes over a token that is on the platform already. */
async function adopteeExists(
  p: Platform,
  entityId: string,
  news: ApiTokenInputs,
): Promise<boolean> {
  if (known(news.tokenId)) {
    const token = await p.tokens.find(news.tokenId);
    return token?.entityId === entityId;
  }
  if (news.adoptDefaultToken === true) return (await p.tokens.findDefault(entityId)) !== null;
  return false;
}

/** Fails `check` only when the program is certain to give the entity more tokens than its tier allows. */
export async function checkQuota(
  p: Platform,
  declaration: Declaration,
  olds: Partial<ApiTokenInputs>,
  news: ApiTokenInputs,
): Promise<CheckFailure | null> {
  const [tiers] = await Promise.all([p.tiers(), p.verifyCredential()]);
  const entityId = entityIdOf(news);
  const seen = entityId ? await entityAsFirstSeen(p, entityId) : null;
  const entity = seen?.entity ?? null;
  const unclaimed = seen?.unclaimed ?? 0;
  const tier = declaration.tier ?? entity?.tier;
  if (!tier || !tiers.find(tier)) return null;

  const managed = Object.keys(olds).length > 0 && olds.entityId === news.entityId;
  const adoptsExisting = !managed && entity !== null && (await adopteeExists(p, entity.id, news));
  const group = checked.get(declaration.group) ?? new Map<string, CheckedDeclaration>();
  checked.set(declaration.group, group);
  group.set(declaration.self, { name: declaration.self, managed, adoptsExisting });

  const members = new Set(declaration.members);
  const violation = planQuota(tiers, {
    entityName: entity?.name ?? declaration.entity,
    tier,
    declared: declaration.members,
    checked: [...group.values()].filter((d) => members.has(d.name)),
    entityExists: entity !== null,
    platformTokens: unclaimed,
    willIssueDefault: declaration.entityDefaultToken !== false,
    defaultAdopted: declaration.defaultAdopted === true,
  });
  return violation ? { property: 'entityId', reason: violation.detail } : null;
}
