import { Deque } from './deque.ts';

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
  readonly queueKey: string;
  timer?: NodeJS.Timeout | undefined;
}

/**
 * Key-ordered hand-out inside one member: records of one key (per partition) go out one at a
 * time, in offset order, the next only after the previous was acked; a nacked record stays the
 * head of its key and goes out again (after its delay) before anything behind it. Records of
 * other keys and other partitions go out concurrently, up to `prefetch` unsettled at once.
 * Unkeyed records have no order to keep and each get a queue of their own.
 */
export class KeyDispatcher<T> {
  readonly #queues = new Map<string, Entry<T>[]>();
  readonly #ready = new Deque<string>();
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

  release(): void {
    this.#outstanding -= 1;
    this.pump();
  }

  /** Stop or restart handing out (rebalance, unsubscribe); records stay queued meanwhile. */
  setOpen(open: boolean): void {
    this.#open = open;
    if (open) this.pump();
  }

  add(partition: number, offset: number, key: string | undefined, item: T): Entry<T> {
    const queueKey = key === undefined ? `${partition}#${offset}` : `${partition}:${key}`;
    const entry: Entry<T> = { partition, offset, item, attempt: 0, state: 'queued', stale: false, queueKey };
    const queue = this.#queues.get(queueKey);
    if (queue) {
      queue.push(entry);
    } else {
      this.#queues.set(queueKey, [entry]);
      this.#ready.push(queueKey);
    }
    return entry;
  }

  /** Hand out ready heads while there is prefetch room. */
  pump(): void {
    while (this.#open && this.#outstanding < this.#prefetch) {
      const queueKey = this.#ready.shift();
      if (queueKey === undefined) return;
      const head = this.#queues.get(queueKey)?.[0];
      if (head?.state !== 'queued' || head.stale) continue;
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
    const queue = this.#queues.get(entry.queueKey)!;
    queue.shift();
    if (queue.length === 0) this.#queues.delete(entry.queueKey);
    else this.#ready.push(entry.queueKey);
    this.pump();
    return true;
  }

  /** Give `entry` back; it goes out again first in its key, no sooner than `delayMs`. */
  nack(entry: Entry<T>, delayMs = 0): boolean {
    if (!this.#release(entry)) return false;
    if (delayMs <= 0) {
      entry.state = 'queued';
      this.#ready.unshift(entry.queueKey);
    } else {
      entry.state = 'held';
      this.#holdUntil(entry, performance.now() + delayMs);
    }
    this.pump();
    return true;
  }

  /** Node may fire a timer up to a millisecond early; the contract is "no sooner than", so check. */
  #holdUntil(entry: Entry<T>, due: number): void {
    entry.timer = setTimeout(
      () => {
        entry.timer = undefined;
        if (entry.state !== 'held' || entry.stale) return;
        const early = due - performance.now();
        if (early > 0) {
          this.#holdUntil(entry, due);
          return;
        }
        entry.state = 'queued';
        this.#ready.unshift(entry.queueKey);
        this.pump();
      },
      Math.max(1, Math.ceil(due - performance.now())),
    );
  }

  /** Forget every record of `partition` (revoked): nothing of it is handed out or committed again. */
  dropPartition(partition: number): void {
    for (const [queueKey, queue] of this.#queues) {
      if (queue[0]?.partition !== partition) continue;
      for (const entry of queue) this.#expire(entry);
      this.#queues.delete(queueKey);
    }
  }

  /** Forget everything (connection lost, member stopping). */
  clear(): void {
    for (const queue of this.#queues.values()) for (const entry of queue) this.#expire(entry);
    this.#queues.clear();
    this.#ready.clear();
  }

  /** Records held by this member (queued, out or delayed) of `partition`. */
  countOf(partition: number): number {
    let count = 0;
    for (const queue of this.#queues.values()) if (queue[0]?.partition === partition) count += queue.length;
    return count;
  }

  #expire(entry: Entry<T>): void {
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.stale = true;
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
