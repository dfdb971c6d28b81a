/**
 * Per-token rate limits of SPEC §6, per server process: a fixed window of
 * `perSeconds` seconds that starts with the token's first request, allowing
 * `requests` in it. Answers carry the IETF httpapi ratelimit-headers fields
 * (draft 10): `RateLimit-Policy: "token";q=<requests>;w=<perSeconds>` and
 * `RateLimit: "token";r=<remaining>;t=<seconds to reset>`.
 */
export type RateLimitSetting = { requests: number; perSeconds: number };

export type RateDecision = {
  allowed: boolean;
  remaining: number;
  /** Seconds until the window resets (≥ 1 while it runs). */
  resetSeconds: number;
};

type Window = { startMs: number; periodMs: number; count: number };

export class RateLimiter {
  readonly #windows = new Map<string, Window>();
  readonly #clock: () => number;

  constructor(clock: () => number) {
    this.#clock = clock;
  }

  /** Tokens with a running window (ended ones are swept). */
  get size(): number {
    return this.#windows.size;
  }

  /** Counts one request when the window has room. */
  take(tokenId: string, limit: RateLimitSetting): RateDecision {
    const now = this.#clock();
    let window = this.#live(tokenId, now);
    if (!window) {
      window = { startMs: now, periodMs: limit.perSeconds * 1000, count: 0 };
      this.#windows.set(tokenId, window);
    }
    const allowed = window.count < limit.requests;
    if (allowed) window.count++;
    return { allowed, ...state(window, limit, now) };
  }

  /** The window's state without counting a request (headers of a refusal before the limit). */
  peek(tokenId: string, limit: RateLimitSetting): RateDecision {
    const now = this.#clock();
    const window = this.#live(tokenId, now);
    if (!window)
      return { allowed: true, remaining: limit.requests, resetSeconds: limit.perSeconds };
    return { allowed: window.count < limit.requests, ...state(window, limit, now) };
  }

  /** Un-counts a request that a later check refused (a refused request consumes nothing). */
  giveBack(tokenId: string): void {
    const window = this.#windows.get(tokenId);
    if (window && window.count > 0) window.count--;
  }

  /** Forgets windows that have ended (called from a timer, so the map stays small). */
  sweep(): void {
    const now = this.#clock();
    for (const [id, w] of this.#windows)
      if (now - w.startMs >= w.periodMs) this.#windows.delete(id);
  }

  #live(tokenId: string, now: number): Window | undefined {
    const window = this.#windows.get(tokenId);
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
