/**
 * A first-in-first-out queue with O(1) push, shift and unshift: items are read from a head index
 * instead of `Array#shift` (which moves every item), and the array is compacted now and then so a
 * long-lived queue does not keep every slot it ever used. `unshift` puts an item first (a
 * redelivery goes ahead of fresh work, as a broker's requeue does).
 */
export class Fifo<T> {
  #items: T[] = [];
  #head = 0;
  /** Items put first while the head was at 0, the last one first. */
  #front: T[] = [];

  get length(): number {
    return this.#front.length + this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  unshift(item: T): void {
    if (this.#head > 0) this.#items[--this.#head] = item;
    else this.#front.push(item);
  }

  /** The first item, left in place. */
  peek(): T | undefined {
    const front = this.#front;
    if (front.length > 0) return front[front.length - 1];
    return this.#head < this.#items.length ? this.#items[this.#head] : undefined;
  }

  shift(): T | undefined {
    if (this.#front.length > 0) return this.#front.pop();
    const items = this.#items;
    const head = this.#head;
    if (head >= items.length) return undefined;
    const item = items[head]!;
    // Let go of the item: a queue holds what it still has to hand on, nothing more.
    items[head] = undefined as T;
    this.#head = head + 1;
    if (this.#head === items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 1_024 && this.#head * 2 > items.length) {
      this.#items = items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  clear(): void {
    this.#items = [];
    this.#front = [];
    this.#head = 0;
  }

  /** Every item, first to last, without removing any. */
  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = this.#front.length - 1; i >= 0; i--) yield this.#front[i]!;
    for (let i = this.#head; i < this.#items.length; i++) yield this.#items[i]!;
  }
}
