import { Fifo } from './fifo.ts';

/** One key's entries, oldest first; the head is the one handed out or next. */
export interface Lane<E> {
  readonly key: string;
  readonly entries: Fifo<E>;
  /** Set once the lane is dropped: it is skipped wherever it is still queued. */
  dropped: boolean;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Per-key order for a broker's hand-out: entries of one key wait in one lane and go out one at a
 * time, the next only after the previous is `done`; an entry given back (`again`) stays the head
 * of its lane and goes out first, after its delay, while every other key keeps flowing. An entry
 * without a key gets a lane of its own. Who receives an entry, and how many may be out at once,
 * is the caller's: it asks `next()` while it has room.
 */
export class KeyedQueue<E> {
  readonly #lanes = new Map<string, Lane<E>>();
  /** Lanes whose head may go out, in order; stale ones (dropped, emptied, head out) are skipped. */
  readonly #ready = new Fifo<Lane<E>>();
  readonly #canGo: (head: E) => boolean;

  /** `canGo(head)`: whether a lane's head may be handed out now (it is not out already). */
  constructor(canGo: (head: E) => boolean) {
    this.#canGo = canGo;
  }

  /** Add `entry` at the end of the lane of `key`, opening it (last in line) when it is new. */
  add(key: string, entry: E): Lane<E> {
    let lane = this.#lanes.get(key);
    if (lane === undefined) {
      lane = { key, entries: new Fifo<E>(), dropped: false, timer: undefined };
      this.#lanes.set(key, lane);
      this.#ready.push(lane);
    }
    lane.entries.push(entry);
    return lane;
  }

  /** Whether a lane may have a head to hand out (`next()` may still find none). */
  get waiting(): boolean {
    return this.#ready.length > 0;
  }

  /** The next lane whose head may go out, taken out of line; undefined when there is none. */
  next(): Lane<E> | undefined {
    for (;;) {
      const lane = this.#ready.shift();
      if (lane === undefined) return undefined;
      const head = lane.entries.peek();
      if (!lane.dropped && head !== undefined && this.#canGo(head)) return lane;
    }
  }

  /** The head of `lane` is finished: the lane's next entry gets in line, or the lane closes. */
  done(lane: Lane<E>): void {
    lane.entries.shift();
    if (lane.dropped) return;
    if (lane.entries.length === 0) this.#close(lane);
    else this.#ready.push(lane);
  }

  /**
   * The head of `lane` goes out again before the rest of its key, first in line: at once, or no
   * sooner than `delayMs`, when `due` is called (after the lane is back in line). The key stays
   * blocked behind its head meanwhile, so per-key order survives retries.
   */
  again(lane: Lane<E>, delayMs = 0, due?: () => void): void {
    if (lane.dropped) return;
    if (delayMs <= 0) {
      this.#ready.unshift(lane);
      return;
    }
    this.#after(lane, performance.now() + delayMs, () => {
      this.#ready.unshift(lane);
      due?.();
    });
  }

  /** Every open lane (not dropped). */
  lanes(): IterableIterator<Lane<E>> {
    return this.#lanes.values();
  }

  /** Forget `lane` and its entries: nothing of it goes out again, its timer is stopped. */
  drop(lane: Lane<E>): void {
    this.#close(lane);
    lane.dropped = true;
  }

  /** Stop every delay timer (the entries stay where they are). */
  stopTimers(): void {
    for (const lane of this.#lanes.values()) {
      clearTimeout(lane.timer);
      lane.timer = undefined;
    }
  }

  /** Drop every lane. */
  clear(): void {
    for (const lane of [...this.#lanes.values()]) this.drop(lane);
    this.#ready.clear();
  }

  #close(lane: Lane<E>): void {
    if (this.#lanes.get(lane.key) === lane) this.#lanes.delete(lane.key);
    clearTimeout(lane.timer);
    lane.timer = undefined;
  }

  /**
   * Run `then` no sooner than `due` (performance.now() time). A timer measures from the event
   * loop's cached clock, which may already be behind: it can fire a fraction of a millisecond
   * early, and "redelivered no sooner than delayMs" must hold all the same. Early twice means the
   * timer runs on a clock performance.now() does not follow (a test faking only setTimeout): then
   * the timer is trusted.
   */
  #after(lane: Lane<E>, due: number, then: () => void, early = false): void {
    clearTimeout(lane.timer);
    lane.timer = setTimeout(
      () => {
        lane.timer = undefined;
        if (lane.dropped) return;
        if (!early && performance.now() < due) this.#after(lane, due, then, true);
        else then();
      },
      Math.max(1, Math.ceil(due - performance.now())),
    );
    lane.timer.unref();
  }
}
