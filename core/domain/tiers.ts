/**
 * Tiers are ordered by rank; each grants a token quota. The built-in table is the
 * seeds' (lite = 1 token, advanced = 5); a deployment may configure its own with
 * TOKENPLANE_TIERS (JSON array of {name, rank, tokenQuota}).
 */
export type Tier = { name: string; rank: number; tokenQuota: number };

export const DEFAULT_TIERS: readonly Tier[] = [
  { name: 'lite', rank: 0, tokenQuota: 1 },
  { name: 'advanced', rank: 1, tokenQuota: 5 },
];

export const DEFAULT_TIER_NAME = 'lite';

export class TierTable {
  readonly tiers: readonly Tier[];
  readonly #byName: Map<string, Tier>;

  constructor(tiers: readonly Tier[] = DEFAULT_TIERS) {
    if (tiers.length === 0) throw new Error('a tier table needs at least one tier');
    this.tiers = [...tiers].sort((a, b) => a.rank - b.rank);
    this.#byName = new Map(this.tiers.map((t) => [t.name, t]));
    if (this.#byName.size !== this.tiers.length) throw new Error('tier names must be unique');
  }

  /** The lowest-ranked tier, given to entities that do not ask for one. */
  get defaultTier(): Tier {
    return this.#byName.get(DEFAULT_TIER_NAME) ?? (this.tiers[0] as Tier);
  }

  get names(): string[] {
    return this.tiers.map((t) => t.name);
  }

  find(name: string): Tier | undefined {
    return this.#byName.get(name);
  }

  get(name: string): Tier {
    const tier = this.#byName.get(name);
    if (!tier) throw new Error(`unknown tier "${name}"; known tiers: ${this.names.join(', ')}`);
    return tier;
  }

  /** Tiers whose rank is at most the given tier's: what it may read and grant. */
  atOrBelow(name: string): Tier[] {
    const rank = this.get(name).rank;
    return this.tiers.filter((t) => t.rank <= rank);
  }

  static fromEnv(value: string | undefined): TierTable {
    if (!value) return new TierTable();
    const parsed: unknown = JSON.parse(value);
    if (
      !Array.isArray(parsed) ||
      !parsed.every(
        (t) =>
          typeof t?.name === 'string' &&
          Number.isInteger(t?.rank) &&
          Number.isInteger(t?.tokenQuota) &&
          t.tokenQuota >= 0,
      )
    ) {
      throw new Error('TOKENPLANE_TIERS must be a JSON array of {name, rank, tokenQuota}');
    }
    return new TierTable(parsed as Tier[]);
  }
}
