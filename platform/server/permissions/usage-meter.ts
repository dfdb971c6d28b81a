/**
 * Usage limits of README "Token permissions and limits" without a database write per request: each server
 * leases units from the token's counter (platform/storage/usage.ts) and hands
 * them to requests from memory.
 *
 * - Exact: the database never grants more than the limit, so servers together
 *   never serve more, whatever the concurrency; a server killed while holding
 *   units never gives them back, and they count as spent.
 * - Few writes: far from the limit a lease takes a block that doubles while
 *   blocks last less than a second (up to MAX_BLOCK); near the limit (less
 *   than four blocks left) a lease takes only what the waiting requests need,
 *   so no server sits on units another server's clients are refused for.
 * - Unused units go back when a token goes idle (one tick without use), when
 *   its period ends, when its permissions change here or its limit is seen to
 *   change (another server's PATCH, once this server's cache has it), and on close.
 * - Served units are reported with the next lease, give-back or tick.
 *
 * One lease at a time per token: requests that find no unit wait for it.
 */
import { usageWindow } from '../../../core/domain/permissions.ts';
import type { TokenPermissions } from '../../../core/schemas/index.ts';
import type { Store } from '../../storage/store.ts';
import { type Lease, leaseUsage, returnUsage } from '../../storage/usage.ts';

/** The token counters the meter leases from and gives back to (storage/usage.ts). */
export type UsageLedger = {
  lease(tokenId: string, period: string, want: number, used: number): Promise<Lease>;
  giveBack(tokenId: string, period: string, unused: number, used: number): Promise<void>;
};

export function storedLedger(store: Store): UsageLedger {
  return {
    lease: (tokenId, period, want, used) => leaseUsage(store, tokenId, period, want, used),
    giveBack: (tokenId, period, unused, used) => returnUsage(store, tokenId, period, unused, used),
  };
}

export type UsageLimitSetting = NonNullable<TokenPermissions['usageLimit']>;

const MAX_BLOCK = 10_000;
const FAST_LEASE_MS = 1000;
/** After the database said "used up", refuse from memory this long (no write per refusal). */
const EXHAUSTED_MS = 1000;

type Slot = {
  tokenId: string;
  period: string;
  /** The limit its units were leased under: a changed limit starts a new slot. */
  limit: number;
  available: number;
  /** Served since the last report. */
  pending: number;
  block: number;
  /** Units left in the database after the last lease; null when unknown. */
  remaining: number | null;
  waiters: ((granted: boolean) => void)[];
  failures: ((error: unknown) => void)[];
  leasing: boolean;
  retired: boolean;
  usedSinceTick: boolean;
  leasedAt: number;
  exhaustedAt: number | null;
};

export type UsageDecision = { allowed: true } | { allowed: false; resetsAt: string | null };

export class UsageMeter {
  /** Public so that a test can count the leases. */
  readonly ledger: UsageLedger;
  readonly #clock: () => number;
  readonly #slots = new Map<string, Slot>();
  readonly #returns = new Set<Promise<void>>();
  readonly #onError: (error: unknown) => void;

  constructor(ledger: UsageLedger, clock: () => number, onError: (error: unknown) => void) {
    this.ledger = ledger;
    this.#clock = clock;
    this.#onError = onError;
  }

  /** Tokens with a slot (swept when idle: one tick without use). */
  get size(): number {
    return this.#slots.size;
  }

  /** Consumes one unit of the token's current period, or says when the period resets. */
  async take(tokenId: string, limit: UsageLimitSetting): Promise<UsageDecision> {
    const now = this.#clock();
    const window = usageWindow(limit.period, now);
    const slot = this.#slot(tokenId, window.key, limit.limit);
    slot.usedSinceTick = true;
    if (slot.available > 0) {
      slot.available--;
      slot.pending++;
      return { allowed: true };
    }
    if (slot.exhaustedAt !== null && now - slot.exhaustedAt < EXHAUSTED_MS) {
      return { allowed: false, resetsAt: window.resetsAt };
    }
    const granted = await new Promise<boolean>((resolve, reject) => {
      slot.waiters.push(resolve);
      slot.failures.push(reject);
      if (!slot.leasing) void this.#lease(slot);
    });
    return granted ? { allowed: true } : { allowed: false, resetsAt: window.resetsAt };
  }

  /** Units this server served and has not reported yet (read-your-writes on GET). */
  pendingUsed(tokenId: string, period: string): number {
    const slot = this.#slots.get(tokenId);
    return slot && slot.period === period ? slot.pending : 0;
  }

  /** Gives back what this server holds for a token (its limits changed, or it was removed). */
  release(tokenId: string): void {
    const slot = this.#slots.get(tokenId);
    if (slot) this.#retire(slot);
  }

  /** Timer work: report served units, give back the units of idle tokens. */
  async tick(): Promise<void> {
    for (const slot of [...this.#slots.values()]) {
      if (!slot.usedSinceTick && !slot.leasing) this.#retire(slot);
      else if (slot.pending > 0 && !slot.leasing) this.#giveBack(slot, 0);
      slot.usedSinceTick = false;
    }
    await this.settled();
  }

  /** Gives everything back (shutdown). */
  async close(): Promise<void> {
    for (const slot of [...this.#slots.values()]) this.#retire(slot);
    await this.settled();
  }

  async settled(): Promise<void> {
    while (this.#returns.size > 0) await Promise.allSettled([...this.#returns]);
  }

  #slot(tokenId: string, period: string, limit: number): Slot {
    const slot = this.#slots.get(tokenId);
    if (slot && slot.period === period && slot.limit === limit) return slot;
    if (slot) this.#retire(slot);
    const fresh: Slot = {
      tokenId,
      period,
      limit,
      available: 0,
      pending: 0,
      block: 1,
      remaining: null,
      waiters: [],
      failures: [],
      leasing: false,
      retired: false,
      usedSinceTick: false,
      leasedAt: 0,
      exhaustedAt: null,
    };
    this.#slots.set(tokenId, fresh);
    return fresh;
  }

  async #lease(slot: Slot): Promise<void> {
    slot.leasing = true;
    try {
      while (slot.waiters.length > 0) {
        const waiting = slot.waiters.length;
        const roomy = slot.remaining !== null && slot.remaining > 4 * slot.block;
        const want = roomy ? Math.max(slot.block, waiting) : waiting;
        const used = slot.pending;
        slot.pending = 0;
        const now = this.#clock();
        let lease: Lease;
        try {
          lease = await this.ledger.lease(slot.tokenId, slot.period, want, used);
        } catch (error) {
          slot.pending += used;
          const failures = slot.failures.splice(0);
          slot.waiters.splice(0);
          for (const fail of failures) fail(error);
          return;
        }
        // Blocks that last under a second double; the first lease keeps block 1.
        if (slot.leasedAt > 0 && now - slot.leasedAt < FAST_LEASE_MS) {
          slot.block = Math.min(MAX_BLOCK, slot.block * 2);
        }
        slot.leasedAt = now;
        slot.remaining = lease.remaining;
        slot.available += lease.units;
        this.#serveWaiters(slot);
        slot.exhaustedAt = lease.units === 0 ? now : null;
        if (lease.units === 0) {
          slot.failures.splice(0);
          for (const refuse of slot.waiters.splice(0)) refuse(false);
        }
      }
    } finally {
      slot.leasing = false;
      if (slot.retired) this.#giveBack(slot, slot.available);
    }
  }

  #serveWaiters(slot: Slot): void {
    while (slot.available > 0 && slot.waiters.length > 0) {
      slot.available--;
      slot.pending++;
      slot.failures.shift();
      slot.waiters.shift()?.(true);
    }
  }

  /** Takes a slot out of use; its units go back once no lease is in flight. */
  #retire(slot: Slot): void {
    if (this.#slots.get(slot.tokenId) === slot) this.#slots.delete(slot.tokenId);
    slot.retired = true;
    if (!slot.leasing) this.#giveBack(slot, slot.available);
  }

  #giveBack(slot: Slot, unused: number): void {
    const used = slot.pending;
    if (unused === 0 && used === 0) return;
    slot.available -= unused;
    slot.pending = 0;
    const done = this.ledger
      .giveBack(slot.tokenId, slot.period, unused, used)
      .catch(this.#onError)
      .finally(() => this.#returns.delete(done));
    this.#returns.add(done);
  }
}
