/**
 * The keys of memoryIdempotencyStore's entries, their characters copied into one byte array rather
 * than kept as strings: 100 000 remembered keys are then no 200 000 heap objects (a key and the
 * flat copy a hash lookup makes of it) that every scavenge copies and promotes (#24). A key with a
 * character past U+00FF is kept as a string (rare: event ids and group names are mostly ASCII).
 * Space a dropped key leaves is reclaimed by compacting once it is half the array.
 */
export class KeyArena {
  #bytes = new Uint8Array(64 * 1_024);
  /** Bytes in use, dropped keys' included. */
  #end = 0;
  /** Of those, bytes of dropped keys. */
  #dropped = 0;
  /** Per entry: where its key starts in `#bytes`. */
  #starts: Int32Array;
  /** Per entry: its key's length; NO_KEY when it has none, IN_STRINGS when it is kept as a string. */
  #lengths: Int32Array;
  readonly #strings = new Map<number, string>();

  constructor(entries: number) {
    this.#starts = new Int32Array(entries);
    this.#lengths = new Int32Array(entries).fill(NO_KEY);
  }

  /**
   * Room for entries up to `entries` - 1, and for their keys at the length of those held so far:
   * the bytes grow once here rather than doubling several times as keys arrive.
   */
  resize(entries: number): void {
    const held = this.#starts.length;
    const starts = new Int32Array(entries);
    starts.set(this.#starts);
    const lengths = new Int32Array(entries).fill(NO_KEY);
    lengths.set(this.#lengths);
    this.#starts = starts;
    this.#lengths = lengths;
    const expected = Math.ceil((this.#end / held) * entries);
    if (this.#dropped === 0 && expected > this.#bytes.length) this.#grow(expected);
  }

  set(entry: number, key: string): void {
    const length = key.length;
    if (this.#end + length > this.#bytes.length) this.#makeRoom(length);
    const bytes = this.#bytes;
    const start = this.#end;
    for (let i = 0; i < length; i++) {
      const code = key.charCodeAt(i);
      if (code > 0xff) {
        this.#strings.set(entry, key);
        this.#lengths[entry] = IN_STRINGS;
        return;
      }
      bytes[start + i] = code;
    }
    this.#end = start + length;
    this.#starts[entry] = start;
    this.#lengths[entry] = length;
  }

  equals(entry: number, key: string): boolean {
    const length = this.#lengths[entry]!;
    if (length === IN_STRINGS) return this.#strings.get(entry) === key;
    if (length !== key.length) return false;
    const bytes = this.#bytes;
    const start = this.#starts[entry]!;
    for (let i = 0; i < length; i++) if (bytes[start + i] !== key.charCodeAt(i)) return false;
    return true;
  }

  drop(entry: number): void {
    const length = this.#lengths[entry]!;
    if (length === IN_STRINGS) this.#strings.delete(entry);
    else if (length > 0) this.#dropped += length;
    this.#lengths[entry] = NO_KEY;
  }

  /** Grow the array (doubling) to hold at least `bytes`, keeping what is in it. */
  #grow(bytes: number): void {
    let size = this.#bytes.length;
    while (bytes > size) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.#bytes.subarray(0, this.#end));
    this.#bytes = grown;
  }

  #makeRoom(length: number): void {
    const live = this.#end - this.#dropped;
    let size = this.#bytes.length;
    // Few bytes of dropped keys (a growing store): keep them, and grow the array in one copy
    // rather than walk every key (that walk was 1.6 % of the memory:// pipeline's CPU, #24). What
    // is kept is at most a quarter of the array; more, and it is compacted.
    if (this.#dropped * 4 <= this.#end) {
      this.#grow(this.#end + length);
      return;
    }
    // Compact into an array of the same size when that leaves at least half of it free, else into
    // one twice the size (or more, for a key longer than the array).
    while (live + length > size / 2) size *= 2;
    const bytes = new Uint8Array(size);
    const from = this.#bytes;
    const starts = this.#starts;
    const lengths = this.#lengths;
    let end = 0;
    for (let entry = 0; entry < lengths.length; entry++) {
      const keyLength = lengths[entry]!;
      if (keyLength <= 0) continue;
      // Byte by byte: keys are short, and a subarray per key cost more than the copy.
      const start = starts[entry]!;
      for (let i = 0; i < keyLength; i++) bytes[end + i] = from[start + i]!;
      starts[entry] = end;
      end += keyLength;
    }
    this.#bytes = bytes;
    this.#end = end;
    this.#dropped = 0;
  }
}

const NO_KEY = -1;
const IN_STRINGS = -2;
