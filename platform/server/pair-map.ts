/**
 * A map keyed by two values, looked up without building one key from them.
 * The hot path's keys (a route pattern and a method, a tier and a scope
 * list) are the same strings on every request, so their look-ups hash nothing
 * new; a key made per request cost its concatenation, its hashing and a
 * character-by-character comparison each time (`npm run bench`).
 */
export class PairMap<A, B, V> {
  readonly #outer = new Map<A, Map<B, V>>();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  get(a: A, b: B): V | undefined {
    return this.#outer.get(a)?.get(b);
  }

  /** Stores `value` under (a, b) and returns it. */
  set(a: A, b: B, value: V): V {
    let inner = this.#outer.get(a);
    if (inner === undefined) {
      inner = new Map();
      this.#outer.set(a, inner);
    }
    if (!inner.has(b)) this.#size++;
    inner.set(b, value);
    return value;
  }

  clear(): void {
    this.#outer.clear();
    this.#size = 0;
  }
}
