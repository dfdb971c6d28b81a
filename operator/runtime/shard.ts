/**
 * Sharding (`--shard-selector`): each operator Deployment reconciles the
 * Entities and ApiTokens its label selector picks, under its own Lease, so
 * several leaders share one cluster without touching each other's objects.
 * Their Secrets carry the selector's labels too (copied from the ApiToken), so
 * each shard's Secret watch sees only its own.
 */
/** The label keys a selector names: `a=x,b!=y,c in (1,2),!d,e` → a, b, c, d, e. */
export function selectorKeys(selector: string): string[] {
  const requirements = selector.split(/,(?![^(]*\))/);
  const keys = requirements
    .map((r) => r.trim().match(/^!?\s*([A-Za-z0-9][-A-Za-z0-9_./]*)/)?.[1])
    .filter((k): k is string => !!k);
  return [...new Set(keys)];
}

/** Both selectors must match (a label selector's comma is AND). */
export function allOf(...selectors: (string | undefined)[]): string | undefined {
  const parts = selectors.filter((s): s is string => !!s?.trim());
  return parts.length ? parts.join(',') : undefined;
}

/**
 * One Lease per shard, named predictably so RBAC can list it:
 * `tokenplane.dev/shard=a` → `<base>-tokenplane-dev-shard-a`.
 */
export function shardLeaseName(base: string, selector: string | undefined): string {
  if (!selector?.trim()) return base;
  const slug = selector
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 200)
    .replace(/-+$/, '');
  return `${base}-${slug}`;
}

/** The ApiToken's own values for the shard's label keys, to carry onto its Secret. */
export function shardLabels(
  labels: Record<string, string> | undefined,
  keys: readonly string[],
): Record<string, string> {
  return Object.fromEntries(
    keys.flatMap((k) => (labels?.[k] !== undefined ? [[k, labels[k]]] : [])),
  );
}
