/**
 * A string-keyed map split over a fixed number of Maps by a hash of the key. A JavaScript Map
 * rehashes all its entries at once when it doubles: at 131,072 entries that held the event loop
 * for 40-80 ms, and the pause grows with the map. Split 64 ways, each part rehashes a 64th of the
 * entries, so a map of a few million keys still grows in steps of a few milliseconds.
 */
const SPLIT_MAP_PARTS = 64;

export class SplitMap<V> {
  private readonly parts: Map<string, V>[] = Array.from({ length: SPLIT_MAP_PARTS }, () => new Map<string, V>());
  private count = 0;

  private part(key: string): Map<string, V> {
    // FNV-1a over the UTF-16 code units: cheap, and spreads keys that differ only in a counter
    let h = 0x811c9dc5;
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
    return this.parts[(h >>> 0) % SPLIT_MAP_PARTS]!;
  }

  get size(): number {
    return this.count;
  }

  get(key: string): V | undefined {
    return this.part(key).get(key);
  }

  has(key: string): boolean {
    return this.part(key).has(key);
  }

  set(key: string, value: V): this {
    const part = this.part(key);
    const before = part.size;
    part.set(key, value);
    this.count += part.size - before;
    return this;
  }

  delete(key: string): boolean {
    const removed = this.part(key).delete(key);
    if (removed) this.count--;
    return removed;
  }

  clear(): void {
    for (const p of this.parts) p.clear();
    this.count = 0;
  }

  /** Every entry, part by part (not in insertion order). */
  *entries(): IterableIterator<[string, V]> {
    for (const p of this.parts) yield* p.entries();
  }
}
