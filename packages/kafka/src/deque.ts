/** A FIFO queue with O(1) push, unshift and shift, for dispatch order. */
export class Deque<T> {
  #items: T[] = [];
  #head = 0;
  #front: T[] = [];

  get length(): number {
    return this.#front.length + this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  /** Put an item first (a redelivery goes ahead of fresh work, as a broker's requeue does). */
  unshift(item: T): void {
    this.#front.push(item);
  }

  shift(): T | undefined {
    if (this.#front.length > 0) return this.#front.pop();
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head]!;
    this.#items[this.#head] = undefined as T;
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  clear(): void {
    this.#items = [];
    this.#front = [];
    this.#head = 0;
  }
}
