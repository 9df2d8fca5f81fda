import { KeyedQueue, type Lane } from '@switchyard/core/transport';

/** One fetched record inside this member, from fetch until it is acked or its partition is lost. */
export interface Entry<T> {
  readonly partition: number;
  readonly offset: number;
  readonly item: T;
  /** Deliveries so far (the next hand-out is attempt + 1). */
  attempt: number;
  /** queued: waiting for its key or for prefetch room; out: handed out, not settled; held: nacked with a delay. */
  state: 'queued' | 'out' | 'held' | 'done';
  /**
   * Its partition was revoked or the member reset: it is never handed out or committed again.
   * An `out` entry that goes stale keeps its prefetch slot until the handler settles it.
   */
  stale: boolean;
  /** Its key's lane (per partition), set when added. */
  lane: Lane<Entry<T>>;
}

/**
 * Key-ordered hand-out inside one member: records of one key (per partition) go out one at a
 * time, in offset order, the next only after the previous was acked; a nacked record stays the
 * head of its key and goes out again (after its delay) before anything behind it. Records of
 * other keys and other partitions go out concurrently, up to `prefetch` unsettled at once.
 * Unkeyed records have no order to keep and each get a queue of their own.
 */
export class KeyDispatcher<T> {
  readonly #queue = new KeyedQueue<Entry<T>>((head) => head.state === 'queued' && !head.stale);
  readonly #prefetch: number;
  readonly #handOut: (entry: Entry<T>) => void;
  #outstanding = 0;
  #open = true;

  constructor(prefetch: number, handOut: (entry: Entry<T>) => void) {
    this.#prefetch = Math.max(1, prefetch);
    this.#handOut = handOut;
  }

  /** Handed out and not yet settled (stale ones included: the handler still holds them). */
  get outstanding(): number {
    return this.#outstanding;
  }

  /**
   * Keep one prefetch slot taken after its delivery settled, until `release()`: an ack is only
   * done once its offset is committed, and until then the bus still counts it as unsettled.
   */
  hold(): void {
    this.#outstanding += 1;
  }

  /** Give back `count` slots taken by `hold()`. */
  release(count = 1): void {
    this.#outstanding -= count;
    this.pump();
  }

  /** Stop or restart handing out (rebalance, unsubscribe); records stay queued meanwhile. */
  setOpen(open: boolean): void {
    this.#open = open;
    if (open) this.pump();
  }

  add(partition: number, offset: number, key: string | undefined, item: T): Entry<T> {
    const queueKey = key === undefined ? `${partition}#${offset}` : `${partition}:${key}`;
    const entry = { partition, offset, item, attempt: 0, state: 'queued', stale: false } as Entry<T>;
    entry.lane = this.#queue.add(queueKey, entry);
    return entry;
  }

  /** Hand out ready heads while there is prefetch room. */
  pump(): void {
    while (this.#open && this.#outstanding < this.#prefetch) {
      const lane = this.#queue.next();
      if (lane === undefined) return;
      const head = lane.entries.peek()!;
      head.state = 'out';
      head.attempt += 1;
      this.#outstanding += 1;
      this.#handOut(head);
    }
  }

  /** The handler finished with `entry`; false when it had gone stale (nothing to commit). */
  ack(entry: Entry<T>): boolean {
    if (!this.#release(entry)) return false;
    entry.state = 'done';
    this.#queue.done(entry.lane);
    this.pump();
    return true;
  }

  /** Give `entry` back; it goes out again first in its key, no sooner than `delayMs`. */
  nack(entry: Entry<T>, delayMs = 0): boolean {
    if (!this.#release(entry)) return false;
    entry.state = delayMs <= 0 ? 'queued' : 'held';
    this.#queue.again(entry.lane, delayMs, () => {
      entry.state = 'queued';
      this.pump();
    });
    this.pump();
    return true;
  }

  /** Forget every record of `partition` (revoked): nothing of it is handed out or committed again. */
  dropPartition(partition: number): void {
    for (const lane of [...this.#queue.lanes()]) {
      if (lane.entries.peek()?.partition !== partition) continue;
      for (const entry of lane.entries) entry.stale = true;
      this.#queue.drop(lane);
    }
  }

  /** Forget everything (connection lost, member stopping). */
  clear(): void {
    for (const lane of this.#queue.lanes()) for (const entry of lane.entries) entry.stale = true;
    this.#queue.clear();
  }

  /** Records held by this member (queued, out or delayed) of `partition`. */
  countOf(partition: number): number {
    let count = 0;
    for (const lane of this.#queue.lanes()) {
      if (lane.entries.peek()?.partition === partition) count += lane.entries.length;
    }
    return count;
  }

  /** Common part of ack and nack: frees the prefetch slot; false when the entry is no longer ours. */
  #release(entry: Entry<T>): boolean {
    if (entry.state !== 'out') return false;
    this.#outstanding -= 1;
    if (!entry.stale) return true;
    entry.state = 'done';
    this.pump();
    return false;
  }
}
