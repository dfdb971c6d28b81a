/**
 * When a token must be rotated: `renewBefore` ahead of its expiry, the way
 * cert-manager computes a Certificate's renewalTime. Pure and clock-free.
 */

/** Duration strings as Kubernetes and Go write them: `720h`, `90m`, `1h30m`, `45s`, plus `d`. */
export function parseDuration(text: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  let total = 0;
  let consumed = 0;
  for (const match of text.matchAll(re)) {
    total += Number(match[1]) * (units[match[2] as string] as number);
    consumed += match[0].length;
  }
  if (consumed === 0 || consumed !== text.length) {
    throw new Error(`"${text}" is not a duration; write it like 720h, 30d, 90m or 1h30m`);
  }
  return total;
}

/** The moment rotation is due, or null when the token never expires. */
export function renewalTime(expiresAt: string | null, renewBeforeMs: number): Date | null {
  if (expiresAt === null) return null;
  return new Date(Date.parse(expiresAt) - renewBeforeMs);
}

/**
 * Default `renewBefore` when none is declared: a third of the lifetime, as
 * cert-manager does, so a token is replaced well before consumers see it die.
 */
export function defaultRenewBefore(lifetimeMs: number): number {
  return Math.floor(lifetimeMs / 3);
}

/** The expiry a `lifetime` asks for, counted from the given moment. */
export function expiryFromLifetime(from: Date, lifetimeMs: number): string {
  return new Date(from.getTime() + lifetimeMs).toISOString();
}
