/**
 * Where a string key's entry is: an open-addressing table (linear probing) over typed arrays, for
 * memoryIdempotencyStore. Why not a `Map<string, …>`: a lookup of a key the table does not hold
 * (every new event id) walks a Map's bucket chain, each link a jump to another entry and to its
 * key string, at 100 000+ keys a cache miss each; here a miss compares 32-bit hashes kept side by
 * side and looks at a key only when its hash matches. Measured in the memory:// pipeline (#24):
 * the Map-based store was a third of the CPU per handled event.
 *
 * Values are small non-negative integers (the store's entry numbers); the keys are the caller's,
 * compared through `sameKey(value, key)`. Removal shifts the rest of the probe run back (no
 * tombstones) and growing rehashes, so a slot number is valid only while `moves` is unchanged.
 */
export class KeyIndex {
  /** Slots - 1. */
  #mask: number;
  /**
   * Per slot, side by side (one cache line for a probe): at 2 × slot its value + 1 (0: empty), at
   * 2 × slot + 1 its key's hash.
   */
  #cells: Int32Array;
  #count = 0;
  readonly #sameKey: (value: number, key: string) => boolean;
  #moves = 0;

  constructor(sameKey: (value: number, key: string) => boolean, capacity = 1_024) {
    this.#sameKey = sameKey;
    const size = slotsFor(capacity);
    this.#mask = size - 1;
    this.#cells = new Int32Array(2 * size);
  }

  /** Room for `capacity` keys without growing again (one rehash now rather than several later). */
  reserve(capacity: number): void {
    const slots = slotsFor(capacity);
    if (slots > this.#mask + 1) this.#rehash(slots);
  }

  get size(): number {
    return this.#count;
  }

  /** Counts removals and rehashes: what moves slots. */
  get moves(): number {
    return this.#moves;
  }

  /** The slot holding `key` (hash `hash`, from `hashKey`), or `-1`. */
  find(key: string, hash: number): number {
    const mask = this.#mask;
    const cells = this.#cells;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      if (cells[2 * slot] === 0) return -1;
      if (cells[2 * slot + 1] === hash && this.#sameKey(cells[2 * slot]! - 1, key)) return slot;
    }
  }

  /** The slot holding `value`, which was added with hash `hash`; `-1` when it is not there. */
  slotOf(value: number, hash: number): number {
    const mask = this.#mask;
    const cells = this.#cells;
    const stored = value + 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const v = cells[2 * slot]!;
      if (v === 0) return -1;
      if (v === stored) return slot;
    }
  }

  valueAt(slot: number): number {
    return this.#cells[2 * slot]! - 1;
  }

  /** Add the key of `value` (hash `hash`), which `find` did not find; returns its slot. */
  add(hash: number, value: number): number {
    if ((this.#count + 1) * 2 > this.#mask + 1) this.#grow();
    this.#count += 1;
    return this.#place(hash, value + 1);
  }

  /** Remove the key at `slot`; moves later keys of its probe run back into the gap. */
  removeAt(slot: number): void {
    const mask = this.#mask;
    this.#moves += 1;
    const cells = this.#cells;
    let gap = slot;
    for (let next = (gap + 1) & mask; cells[2 * next] !== 0; next = (next + 1) & mask) {
      const home = cells[2 * next + 1]! & mask;
      // `next` may fill the gap unless its home lies cyclically in (gap, next]: then the gap is
      // before where a lookup for it starts.
      const stays = gap <= next ? gap < home && home <= next : gap < home || home <= next;
      if (stays) continue;
      cells[2 * gap] = cells[2 * next]!;
      cells[2 * gap + 1] = cells[2 * next + 1]!;
      gap = next;
    }
    cells[2 * gap] = 0;
    this.#count -= 1;
  }

  #place(hash: number, stored: number): number {
    const mask = this.#mask;
    const cells = this.#cells;
    let slot = hash & mask;
    while (cells[2 * slot] !== 0) slot = (slot + 1) & mask;
    cells[2 * slot] = stored;
    cells[2 * slot + 1] = hash;
    return slot;
  }

  #grow(): void {
    this.#rehash(2 * (this.#mask + 1));
  }

  #rehash(size: number): void {
    this.#moves += 1;
    const cells = this.#cells;
    const slots = this.#mask + 1;
    this.#mask = size - 1;
    this.#cells = new Int32Array(2 * size);
    for (let slot = 0; slot < slots; slot++) {
      if (cells[2 * slot] !== 0) this.#place(cells[2 * slot + 1]!, cells[2 * slot]!);
    }
  }
}

/** Slots for `capacity` keys at most half full: a power of two, for masking. */
const slotsFor = (capacity: number) => 2 ** Math.ceil(Math.log2(Math.max(16, capacity * 2)));

/** A 32-bit hash of every character of `key` (FNV-1a, then murmur3's finaliser for the low bits). */
export function hashKey(key: string): number {
  let h = 0x811c9dc5 ^ key.length;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
