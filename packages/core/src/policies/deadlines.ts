import { MAX_TIMER_MS } from '../kit/bounded.ts';

/**
 * Deadlines without a timer each. Deadlines of one length are set in the order they end, so each
 * length keeps a FIFO list (O(1) to add and to cancel) and one timer, armed for its oldest entry.
 * Cancelling the oldest leaves the timer as it is: when it fires it expires what is due and is
 * armed again for what is left. The timer is cleared once nothing is left, so an idle process
 * holds none.
 */

/** A pending deadline. */
export interface Deadline {
  /** Stop it from firing. True if it was still pending, false if it had fired already (or was cancelled). */
  cancel(): boolean;
}

/**
 * A timer fires when the event loop's millisecond clock reaches its delay; `performance.now()`
 * may then still be up to a millisecond short of it. Due means due within that slack.
 */
const SLACK_MS = 1;

class Entry implements Deadline {
  readonly at: number;
  readonly #onExpire: () => void;
  list: List | undefined;
  prev: Entry | undefined = undefined;
  next: Entry | undefined = undefined;

  constructor(list: List, at: number, onExpire: () => void) {
    this.list = list;
    this.at = at;
    this.#onExpire = onExpire;
  }

  cancel(): boolean {
    const list = this.list;
    if (list === undefined) return false;
    list.remove(this);
    return true;
  }

  expire(): void {
    this.#onExpire();
  }
}

const lists = new Map<number, List>();

class List {
  readonly ms: number;
  head: Entry | undefined = undefined;
  tail: Entry | undefined = undefined;
  #timer: NodeJS.Timeout | undefined = undefined;
  /** The head's due time when the timer was armed, and the one a firing found not yet due. */
  #armedFor: number | undefined = undefined;
  #earlyFor: number | undefined = undefined;

  constructor(ms: number) {
    this.ms = ms;
  }

  add(onExpire: () => void, from: number): Entry {
    const entry = new Entry(this, from + this.ms, onExpire);
    const tail = this.tail;
    if (tail === undefined) {
      this.head = entry;
      this.tail = entry;
      if (this.#timer === undefined) this.#arm(entry.at - performance.now());
    } else if (tail.at <= entry.at) {
      entry.prev = tail;
      tail.next = entry;
      this.tail = entry;
    } else {
      // Started earlier than the tail (work that ran synchronously first), or a faked clock went
      // back: keep the list sorted all the same, and the timer armed for the head.
      let after = tail.prev;
      while (after !== undefined && after.at > entry.at) after = after.prev;
      this.#insertAfter(entry, after);
      if (this.head === entry) {
        if (this.#timer !== undefined) clearTimeout(this.#timer);
        this.#arm(entry.at - performance.now());
      }
    }
    return entry;
  }

  remove(entry: Entry): void {
    const { prev, next } = entry;
    if (prev === undefined) this.head = next;
    else prev.next = next;
    if (next === undefined) this.tail = prev;
    else next.prev = prev;
    entry.prev = undefined;
    entry.next = undefined;
    entry.list = undefined;
    if (this.head === undefined) this.#idle();
  }

  #insertAfter(entry: Entry, after: Entry | undefined): void {
    const next = after === undefined ? this.head : after.next;
    entry.prev = after;
    entry.next = next;
    if (after === undefined) this.head = entry;
    else after.next = entry;
    if (next === undefined) this.tail = entry;
    else next.prev = entry;
  }

  #arm(delayMs: number): void {
    this.#armedFor = this.head?.at;
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, delayMs));
  }

  #idle(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (lists.get(this.ms) === this) lists.delete(this.ms);
  }

  #fire(): void {
    this.#timer = undefined;
    let now = performance.now();
    // Fired a second time for the same head that was not due the first time: the timer runs on a
    // clock performance.now() does not follow (a test faking only setTimeout). Trust the timer.
    if (this.#armedFor !== undefined && this.#armedFor === this.#earlyFor)
      now = Math.max(now, this.#armedFor);
    let entry = this.head;
    this.#earlyFor = entry !== undefined && entry.at > now + SLACK_MS ? entry.at : undefined;
    while (entry !== undefined && entry.at <= now + SLACK_MS) {
      this.remove(entry);
      entry.expire();
      entry = this.head;
    }
    if (this.head !== undefined && this.#timer === undefined) {
      lists.set(this.ms, this);
      this.#arm(this.head.at - now);
    }
  }
}

/**
 * Call `onExpire` once `ms` (finite, > 0) have passed since `from` (a performance.now() time,
 * default now), unless cancelled first.
 */
export function deadline(ms: number, onExpire: () => void, from = performance.now()): Deadline {
  let list = lists.get(ms);
  if (list === undefined) {
    list = new List(ms);
    lists.set(ms, list);
  }
  return list.add(onExpire, from);
}

/**
 * A timeout this module enforces: positive and at most what a timer keeps (2^31 - 1 ms, about 24.8
 * days); anything else means none. A longer one armed a timer Node runs after 1 ms, and the list,
 * trusting a timer that fired twice for its head, expired it then: timeoutMs 2^31 timed every
 * handler out at once.
 */
export function hasTimeout(timeoutMs: number | undefined): timeoutMs is number {
  return timeoutMs !== undefined && timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS;
}
