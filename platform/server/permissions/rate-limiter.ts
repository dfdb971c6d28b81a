/**
 * Per-token rate limits of README "Token permissions and limits", per server process: a fixed window of
 * `perSeconds` seconds that starts with the token's first request, allowing
 * `requests` in it. Answers carry the IETF httpapi ratelimit-headers fields
 * (draft 10): `RateLimit-Policy: "token";q=<requests>;w=<perSeconds>` and
 * `RateLimit: "token";r=<remaining>;t=<seconds to reset>`.
 * The console's sign-in attempt limit (README "Console") counts per client address with it.
 */
import { LRUCache } from 'lru-cache';

export type RateLimitSetting = { requests: number; perSeconds: number };

export type RateDecision = {
  allowed: boolean;
  remaining: number;
  /** Seconds until the window resets (≥ 1 while it runs). */
  resetSeconds: number;
};

type Window = { startMs: number; periodMs: number; count: number };

export class RateLimiter {
  readonly #windows: Map<string, Window> | LRUCache<string, Window>;
  readonly #clock: () => number;

  /**
   * `maxKeys`: keys kept at most, the least recently used forgotten first — for
   * keys a caller chooses (client addresses), where the periodic sweep alone would
   * let the map grow without bound.
   */
  constructor(clock: () => number, options: { maxKeys?: number } = {}) {
    this.#clock = clock;
    this.#windows = options.maxKeys ? new LRUCache({ max: options.maxKeys }) : new Map();
  }

  /** Keys with a running window (ended ones are swept). */
  get size(): number {
    return this.#windows.size;
  }

  /** Counts one request when the window has room. */
  take(key: string, limit: RateLimitSetting): RateDecision {
    const now = this.#clock();
    let window = this.#live(key, now);
    if (!window) {
      window = { startMs: now, periodMs: limit.perSeconds * 1000, count: 0 };
      this.#windows.set(key, window);
    }
    const allowed = window.count < limit.requests;
    if (allowed) window.count++;
    return { allowed, ...state(window, limit, now) };
  }

  /** The window's state without counting a request (headers of a refusal before the limit). */
  peek(key: string, limit: RateLimitSetting): RateDecision {
    const now = this.#clock();
    const window = this.#live(key, now);
    if (!window)
      return { allowed: true, remaining: limit.requests, resetSeconds: limit.perSeconds };
    return { allowed: window.count < limit.requests, ...state(window, limit, now) };
  }

  /** Un-counts a request that a later check refused (a refused request consumes nothing). */
  giveBack(key: string): void {
    const window = this.#windows.get(key);
    if (window && window.count > 0) window.count--;
  }

  /** Forgets windows that have ended (called from a timer, so the map stays small). */
  sweep(): void {
    const now = this.#clock();
    // Collected first: an LRU cache must not be changed while it is iterated.
    const ended: string[] = [];
    for (const [id, w] of this.#windows) if (now - w.startMs >= w.periodMs) ended.push(id);
    for (const id of ended) this.#windows.delete(id);
  }

  #live(key: string, now: number): Window | undefined {
    const window = this.#windows.get(key);
    return window && now - window.startMs < window.periodMs ? window : undefined;
  }
}

function state(window: Window, limit: RateLimitSetting, now: number) {
  return {
    remaining: Math.max(0, limit.requests - window.count),
    resetSeconds: Math.max(1, Math.ceil((window.startMs + window.periodMs - now) / 1000)),
  };
}

export function rateLimitHeaders(
  limit: RateLimitSetting,
  decision: RateDecision,
): Record<string, string> {
  return {
    'ratelimit-policy': `"token";q=${limit.requests};w=${limit.perSeconds}`,
    ratelimit: `"token";r=${decision.remaining};t=${decision.resetSeconds}`,
  };
}
