/**
 * Who refers to whom (an ApiToken to its Entity, an Entity to its parent),
 * kept up to date from watch events, so that the dependents of an Entity are
 * found by a look-up rather than by scanning every cached object — a scan per
 * Entity change made a fresh install of N objects cost N² at 10,000 ApiTokens.
 */
export class RefIndex {
  /** namespace/name → the target it refers to. */
  readonly #target = new Map<string, string>();
  /** namespace/target → the names that refer to it. */
  readonly #referrers = new Map<string, Set<string>>();

  /** Records that `name` refers to `target` now (or to nothing). */
  set(namespace: string, name: string, target: string | undefined): void {
    const key = `${namespace}/${name}`;
    const before = this.#target.get(key);
    if (before === target) return;
    if (before !== undefined) {
      const names = this.#referrers.get(`${namespace}/${before}`);
      names?.delete(name);
      if (names?.size === 0) this.#referrers.delete(`${namespace}/${before}`);
    }
    if (target === undefined) {
      this.#target.delete(key);
      return;
    }
    this.#target.set(key, target);
    const at = `${namespace}/${target}`;
    const names = this.#referrers.get(at) ?? new Set<string>();
    names.add(name);
    this.#referrers.set(at, names);
  }

  /** The names in `namespace` that refer to `target`. */
  of(namespace: string, target: string): string[] {
    return [...(this.#referrers.get(`${namespace}/${target}`) ?? [])];
  }
}
