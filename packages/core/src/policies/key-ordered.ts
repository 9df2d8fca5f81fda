import { Observable, type OperatorFunction } from 'rxjs';

/** What became of running one item, and what its key does next. */
export interface Step<O> {
  readonly outcomes: readonly O[];
  readonly next:
    | { readonly kind: 'done' }
    /** Run the same item again after `delayMs`; its key waits, other keys go on. */
    | { readonly kind: 'again'; readonly delayMs: number }
    /** The item went back to the broker: hold its key's later items until `id` returns, at most `holdMs`. */
    | { readonly kind: 'park'; readonly id: string; readonly holdMs: number };
}

export interface KeyOrderedOptions<I, O> {
  /** Items running at once, across keys. A key never runs two items at once. */
  readonly concurrency: number;
  /** Items with the same key run one after another in arrival order; `undefined`: no order. */
  readonly keyOf: (item: I) => string | undefined;
  /** Matches an item coming back after a `park`. */
  readonly idOf: (item: I) => string | undefined;
  readonly firstAttempt: (item: I) => number;
  readonly run: (item: I, attempt: number) => Promise<Step<O>>;
  /** Whether an item that has not started should be given back instead (shutdown). */
  readonly shouldRelease: (item: I) => boolean;
  /** Give an item back unrun; resolves with its outcome. */
  readonly release: (item: I) => Promise<O>;
}

interface Slot<I> {
  readonly item: I;
  attempt: number;
}

type KeyState = 'runnable' | 'running' | 'waiting' | 'parked';

/**
 * Bounded concurrency that keeps per-key order, also across retries: while an item waits for its
 * next attempt (a timer here, or the broker), later items of its key wait behind it and every
 * other key keeps flowing. A waiting item holds no concurrency slot. What may be held in memory is
 * bounded by what the source hands out, i.e. the transport's prefetch.
 */
export function keyOrdered<I, O>(options: KeyOrderedOptions<I, O>): OperatorFunction<I, O> {
  return (source) =>
    new Observable<O>((subscriber) => {
      const queues = new Map<string, Slot<I>[]>();
      const states = new Map<string, KeyState>();
      const timers = new Map<string, NodeJS.Timeout>();
      const parkedFor = new Map<string, string>();
      const runnable: string[] = [];
      let running = 0;
      let releasing = 0;
      let sourceDone = false;
      let stopped = false;
      let unkeyed = 0;

      const emit = (outcome: O) => {
        if (!stopped) subscriber.next(outcome);
      };

      const makeRunnable = (key: string, first = false) => {
        states.set(key, 'runnable');
        if (first) runnable.unshift(key);
        else runnable.push(key);
      };

      const advance = (key: string) => {
        const queue = queues.get(key);
        if (queue && queue.length > 0) makeRunnable(key);
        else {
          queues.delete(key);
          states.delete(key);
        }
      };

      const releaseQueue = (key: string) => {
        const queue = queues.get(key) ?? [];
        queues.delete(key);
        states.delete(key);
        clearTimeout(timers.get(key));
        timers.delete(key);
        parkedFor.delete(key);
        for (const slot of queue) {
          releasing += 1;
          options.release(slot.item).then(
            (outcome) => {
              releasing -= 1;
              emit(outcome);
              settleIfDone();
            },
            (error: unknown) => fail(error),
          );
        }
      };

      const fail = (error: unknown) => {
        if (!stopped) subscriber.error(error);
      };

      const settleIfDone = () => {
        if (!sourceDone || stopped) return;
        // Once the source is done nothing parked can come back: give its followers back now.
        for (const key of [...parkedFor.keys()]) releaseQueue(key);
        // What waits for a retry or for a free slot is given back now, not when a slot frees: during a
        // drain the running handlers may hold every slot until the deadline.
        for (const [key, state] of [...states]) {
          if (state === 'running' || state === 'parked') continue;
          if (!options.shouldRelease(queues.get(key)![0]!.item)) continue;
          if (state === 'runnable') runnable.splice(runnable.indexOf(key), 1);
          releaseQueue(key);
        }
        if (running === 0 && releasing === 0 && states.size === 0) subscriber.complete();
      };

      const pump = () => {
        while (!stopped && running < options.concurrency && runnable.length > 0) {
          const key = runnable.shift()!;
          const slot = queues.get(key)![0]!;
          if (options.shouldRelease(slot.item)) {
            releaseQueue(key);
            continue;
          }
          states.set(key, 'running');
          running += 1;
          options.run(slot.item, slot.attempt).then(
            (step) => finish(key, slot, step),
            (error: unknown) => fail(error),
          );
        }
        settleIfDone();
      };

      const finish = (key: string, slot: Slot<I>, step: Step<O>) => {
        running -= 1;
        if (stopped) {
          // Unsubscribed while it ran: an attempt that asks for another one gives the item back.
          if (step.next.kind === 'again') void options.release(slot.item).catch(() => {});
          return;
        }
        for (const outcome of step.outcomes) emit(outcome);
        // A subscriber may unsubscribe from inside its next(): then the queues are gone.
        if (stopped) return;
        const { next } = step;
        if (next.kind === 'done') {
          queues.get(key)!.shift();
          advance(key);
        } else if (next.kind === 'again') {
          slot.attempt += 1;
          states.set(key, 'waiting');
          const timer = setTimeout(() => {
            timers.delete(key);
            makeRunnable(key, true);
            pump();
          }, next.delayMs);
          timers.set(key, timer);
        } else {
          queues.get(key)!.shift();
          states.set(key, 'parked');
          parkedFor.set(key, next.id);
          const timer = setTimeout(() => {
            // It came back elsewhere, or not yet: stop holding the key rather than hold it forever.
            timers.delete(key);
            parkedFor.delete(key);
            advance(key);
            pump();
          }, next.holdMs);
          timers.set(key, timer);
        }
        pump();
      };

      const accept = (item: I) => {
        const key = options.keyOf(item) ?? `\u0000${unkeyed++}`;
        const slot: Slot<I> = { item, attempt: options.firstAttempt(item) };
        const queue = queues.get(key);
        if (states.get(key) === 'parked' && parkedFor.get(key) === options.idOf(item)) {
          // The retried item is back: it goes before the ones that waited for it.
          clearTimeout(timers.get(key));
          timers.delete(key);
          parkedFor.delete(key);
          if (queue) queue.unshift(slot);
          else queues.set(key, [slot]);
          makeRunnable(key, true);
        } else if (queue) {
          queue.push(slot);
        } else {
          queues.set(key, [slot]);
          if (states.get(key) !== 'parked') makeRunnable(key);
        }
        pump();
      };

      const subscription = source.subscribe({
        next: accept,
        error: (error: unknown) => fail(error),
        complete: () => {
          sourceDone = true;
          pump();
        },
      });

      return () => {
        stopped = true;
        subscription.unsubscribe();
        for (const timer of timers.values()) clearTimeout(timer);
        // Unsubscribed mid-flight: give every item that is not running back so the broker redelivers
        // it. A running item settles itself when its attempt ends (see finish); giving it back now
        // would have it redelivered while its handler still runs.
        for (const [key, queue] of queues) {
          const from = states.get(key) === 'running' ? 1 : 0;
          for (const slot of queue.slice(from)) void options.release(slot.item).catch(() => {});
        }
        queues.clear();
      };
    });
}
