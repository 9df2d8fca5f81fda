/**
 * The last `capacity` items pushed, oldest first: a push past capacity overwrites the oldest in
 * O(1) (a retention log kept with `Array#shift` moves every item it keeps on every push). The
 * storage grows by doubling up to capacity, so a ring that is given a large capacity and little
 * to hold stays small.
 */
export class Ring<T> {
  readonly capacity: number;
  #items: T[] = [];
  /** Index of the oldest item once the storage is full (before, the oldest is at 0). */
  #start = 0;

  constructor(capacity: number) {
    this.capacity = Math.max(0, Math.floor(capacity));
  }

  get length(): number {
    return this.#items.length;
  }

  push(item: T): void {
    if (this.capacity === 0) return;
    const items = this.#items;
    if (items.length < this.capacity) {
      items.push(item);
      return;
    }
    items[this.#start] = item;
    this.#start = this.#start + 1 === this.capacity ? 0 : this.#start + 1;
  }

  /** Every item, oldest to newest, without removing any. */
  *[Symbol.iterator](): IterableIterator<T> {
    const items = this.#items;
    for (let i = this.#start; i < items.length; i++) yield items[i]!;
    for (let i = 0; i < this.#start; i++) yield items[i]!;
  }
}
