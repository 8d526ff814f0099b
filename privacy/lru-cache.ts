/**
 * A small least-recently-used map: at most `capacity` entries, the least recently read or
 * written one goes first. Relies on Map keeping insertion order.
 */
export class LruCache<K, V> {
  readonly #capacity: number;
  readonly #map = new Map<K, V>();

  /** @param capacity maximum number of entries (>= 1). */
  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`LRU capacity must be a whole number >= 1, got ${capacity}`);
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#map.size;
  }

  get(key: K): V | undefined {
    const value = this.#map.get(key);
    if (value === undefined) return undefined;
    this.#map.delete(key);
    this.#map.set(key, value);
    return value;
  }

  set(key: K, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    while (this.#map.size > this.#capacity) this.#map.delete(this.#map.keys().next().value as K);
  }

  delete(key: K): boolean {
    return this.#map.delete(key);
  }
}
