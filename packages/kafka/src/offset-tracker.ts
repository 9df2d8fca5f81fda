import { Fifo } from '@switchyard/core/transport';

interface Pending {
  readonly offset: number;
  settled: boolean;
}

/**
 * The offsets of one partition that this member fetched and has not committed yet.
 *
 * Kafka keeps one committed offset per partition, so a member may only commit up to the first
 * offset it has not settled: committing past it would skip a nacked or in-retry message, and a
 * crash must redeliver exactly what was not settled. Offsets are tracked in fetch order, so the
 * committable point is the first unsettled one (or, when all are settled, the next to fetch).
 */
export class OffsetTracker {
  /** Fetch order, the oldest entry still pending first. */
  readonly #queue = new Fifo<Pending>();
  readonly #byOffset = new Map<number, Pending>();
  /** The offset after the last one fetched: what to commit once everything before it settled. */
  #fetched: number;
  /** The last offset the broker accepted a commit for. */
  committed: number;

  /** `start`: the first offset fetched, where the group's committed position already is. */
  constructor(start: number) {
    this.#fetched = start;
    this.committed = start;
  }

  /** Next offset the member has not seen; anything below it is a refetch and must be skipped. */
  get fetched(): number {
    return this.#fetched;
  }

  /** Fetched and not yet below the committable point: the window a crash would redeliver. */
  get size(): number {
    return this.#queue.length;
  }

  /** Offsets fetched and not yet settled (in retry, in a handler, or waiting for their key). */
  get unsettled(): number {
    let count = 0;
    for (const entry of this.#queue) if (!entry.settled) count++;
    return count;
  }

  /** Record a fetched offset. Offsets must arrive in increasing order; a refetch returns false. */
  track(offset: number): boolean {
    if (offset < this.#fetched) return false;
    const entry: Pending = { offset, settled: false };
    this.#queue.push(entry);
    this.#byOffset.set(offset, entry);
    this.#fetched = offset + 1;
    return true;
  }

  /**
   * Everything below `next` was fetched (a batch may end in records never handed out, such as
   * transaction markers), so with nothing pending the commit point may move up to it.
   */
  fetchedThrough(next: number): void {
    if (next > this.#fetched) this.#fetched = next;
  }

  /** Mark an offset settled; true when this moved the committable point. */
  settle(offset: number): boolean {
    const entry = this.#byOffset.get(offset);
    if (!entry || entry.settled) return false;
    entry.settled = true;
    this.#byOffset.delete(offset);
    if (this.#queue.peek() !== entry) return false;
    while (this.#queue.peek()?.settled) this.#queue.shift();
    return true;
  }

  /** The offset to commit: the first one not settled, or the next to fetch when all are. */
  committable(): number {
    return this.#queue.peek()?.offset ?? this.#fetched;
  }

  /** True when `committable()` is ahead of what the broker last accepted. */
  needsCommit(): boolean {
    return this.committable() > this.committed;
  }
}
