import { Observable, type OperatorFunction } from 'rxjs';
import { Fifo } from '../kit/fifo.ts';
import { isPromiseLike } from '../promise.ts';

/** What became of running one item, and what its key does next. */
export interface Step<O> {
  readonly outcomes: readonly O[];
  readonly next:
    | { readonly kind: 'done' }
    /** Run the same item again after `delayMs`; its key waits, other keys go on. */
    | { readonly kind: 'again'; readonly delayMs: number }
    /** The item went back to the broker: hold its key's later items until `id` returns, at most `holdMs`. */
    | { readonly kind: 'park'; readonly id: string; readonly holdMs: number };
  /**
   * One more outcome still on its way (an ack or nack the broker has not confirmed yet), emitted
   * when it resolves. The item's concurrency slot and its key are free already: `next` decided what
   * happens to them. Completion waits for it.
   */
  readonly settling?: PromiseLike<O> | undefined;
}

export interface KeyOrderedOptions<I, O> {
  /** Items running at once, across keys. A key never runs two items at once. */
  readonly concurrency: number;
  /** Items with the same key run one after another in arrival order; `undefined`: no order. */
  readonly keyOf: (item: I) => string | undefined;
  /** Matches an item coming back after a `park`. */
  readonly idOf: (item: I) => string | undefined;
  readonly firstAttempt: (item: I) => number;
  /** Run one attempt. May answer synchronously: then the next item starts without waiting for a microtask. */
  readonly run: (item: I, attempt: number) => Step<O> | PromiseLike<Step<O>>;
  /** Whether an item that has not started should be given back instead (shutdown). */
  readonly shouldRelease: (item: I) => boolean;
  /** Give an item back unrun; resolves with its outcome. */
  readonly release: (item: I) => Promise<O>;
  /**
   * Settles (`Step.settling`) that may await the broker at once; while this many do, no new item
   * starts. A function is asked for each item that arrives and the largest answer counts.
   * Default: `settlingBound(concurrency)`.
   */
  readonly maxSettling?: number | ((item: I) => number);
}

interface Slot<I> {
  readonly item: I;
  attempt: number;
}

type KeyState = 'runnable' | 'running' | 'waiting' | 'parked' | 'gone';

/** One key's items in arrival order (the head is the one running, waiting or next), and its state. */
interface Lane<I> {
  readonly key: string;
  readonly slots: Slot<I>[];
  state: KeyState;
  timer: NodeJS.Timeout | undefined;
  /** While parked: the id whose return unparks the key. */
  parkedFor: string | undefined;
}

/**
 * Settles (acks, nacks) that may await the broker at once when nothing better is known: enough to
 * pipeline a slow commit. handle() raises it to the subscription's prefetch (see there).
 */
export const settlingBound = (concurrency: number): number => Math.max(4 * concurrency, 16);

/**
 * Bounded concurrency that keeps per-key order, also across retries: while an item waits for its
 * next attempt (a timer here, or the broker), later items of its key wait behind it and every
 * other key keeps flowing. A waiting item holds no concurrency slot, and neither does an item whose
 * attempt is over and whose settle is still on its way (`Step.settling`); but no new item starts
 * while `maxSettling` settles are on their way, which bounds what a transport that frees its
 * prefetch slot at ack() time can pile up. What may be held in memory is bounded by what the source hands out, i.e.
 * the transport's prefetch.
 */
export function keyOrdered<I, O>(options: KeyOrderedOptions<I, O>): OperatorFunction<I, O> {
  return (source) =>
    new Observable<O>((subscriber) => {
      const lanes = new Map<string, Lane<I>>();
      // Lanes whose head may start, oldest first. A lane taken out of the run (given back) stays in
      // here until it comes up and is skipped: its state is no longer 'runnable'.
      const runnable = new Fifo<Lane<I>>();
      let running = 0;
      let releasing = 0;
      let settling = 0;
      const settlingLimit = options.maxSettling;
      let maxSettling =
        typeof settlingLimit === 'number' ? settlingLimit : settlingBound(options.concurrency);
      let sourceDone = false;
      let stopped = false;
      let unkeyed = 0;
      let pumping = false;
      let pumpAgain = false;

      const emit = (outcome: O) => {
        if (!stopped) subscriber.next(outcome);
      };

      const fail = (error: unknown) => {
        if (!stopped) subscriber.error(error);
      };

      const makeRunnable = (lane: Lane<I>, first = false) => {
        lane.state = 'runnable';
        if (first) runnable.unshift(lane);
        else runnable.push(lane);
      };

      const nextRunnable = (): Lane<I> | undefined => {
        for (let lane = runnable.shift(); lane !== undefined; lane = runnable.shift()) {
          if (lane.state === 'runnable') return lane;
        }
        return undefined;
      };

      const drop = (lane: Lane<I>) => {
        // A lane not gone yet is the one its key maps to: a key gets a new lane only once its
        // last one is gone. One lookup, not two.
        if (lane.state !== 'gone') lanes.delete(lane.key);
        lane.state = 'gone';
        // Nearly every lane closes without a timer (a key with nothing queued behind it).
        if (lane.timer !== undefined) {
          clearTimeout(lane.timer);
          lane.timer = undefined;
        }
        lane.parkedFor = undefined;
      };

      const advance = (lane: Lane<I>) => {
        if (lane.slots.length > 0) makeRunnable(lane);
        else drop(lane);
      };

      const releaseLane = (lane: Lane<I>) => {
        drop(lane);
        for (const slot of lane.slots) {
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
        lane.slots.length = 0;
      };

      const track = (pending: PromiseLike<O>) => {
        settling += 1;
        pending.then(
          (outcome) => {
            settling -= 1;
            emit(outcome);
            // A settle that was holding intake back (see pump) frees room for the next run.
            pump();
          },
          (error: unknown) => fail(error),
        );
      };

      const settleIfDone = () => {
        if (!sourceDone || stopped) return;
        for (const lane of [...lanes.values()]) {
          // Once the source is done nothing parked can come back: give its followers back now.
          if (lane.state === 'parked') {
            releaseLane(lane);
            continue;
          }
          // What waits for a retry or for a free slot is given back now, not when a slot frees: during
          // a drain the running handlers may hold every slot until the deadline.
          if (lane.state === 'running') continue;
          if (!options.shouldRelease(lane.slots[0]!.item)) continue;
          releaseLane(lane);
        }
        if (running === 0 && releasing === 0 && settling === 0 && lanes.size === 0) subscriber.complete();
      };

      const pump = () => {
        if (pumping) {
          // Called from inside a synchronous attempt (its finish, or an item it made arrive): the
          // loop below goes on, so the stack stays flat however many items finish at once.
          pumpAgain = true;
          return;
        }
        pumping = true;
        try {
          do {
            pumpAgain = false;
            // Settles still in flight are bounded too: a transport that frees its prefetch slot
            // when ack() is called (NATS) would otherwise let acks awaiting the broker pile up.
            while (!stopped && running < options.concurrency && settling < maxSettling) {
              const lane = nextRunnable();
              if (!lane) break;
              const slot = lane.slots[0]!;
              if (options.shouldRelease(slot.item)) {
                releaseLane(lane);
                continue;
              }
              lane.state = 'running';
              running += 1;
              const step = options.run(slot.item, slot.attempt);
              if (isPromiseLike<Step<O>>(step)) {
                step.then(
                  (done) => finish(lane, slot, done),
                  (error: unknown) => fail(error),
                );
              } else finish(lane, slot, step);
            }
          } while (pumpAgain && !stopped);
        } catch (error) {
          fail(error);
        } finally {
          pumping = false;
        }
        settleIfDone();
      };

      const finish = (lane: Lane<I>, slot: Slot<I>, step: Step<O>) => {
        running -= 1;
        if (step.settling) track(step.settling);
        if (stopped) {
          // Unsubscribed while it ran: an attempt that asks for another one gives the item back.
          if (step.next.kind === 'again') void options.release(slot.item).catch(() => {});
          return;
        }
        for (const outcome of step.outcomes) emit(outcome);
        // A subscriber may unsubscribe from inside its next(): then the lanes are gone, and an
        // attempt that asked for another one must give its item back (teardown skipped this lane).
        if (stopped) {
          if (step.next.kind === 'again') void options.release(slot.item).catch(() => {});
          return;
        }
        const { next } = step;
        if (next.kind === 'done') {
          lane.slots.shift();
          advance(lane);
        } else if (next.kind === 'again') {
          slot.attempt += 1;
          lane.state = 'waiting';
          lane.timer = setTimeout(() => {
            lane.timer = undefined;
            makeRunnable(lane, true);
            pump();
          }, next.delayMs);
        } else {
          lane.slots.shift();
          lane.state = 'parked';
          lane.parkedFor = next.id;
          lane.timer = setTimeout(() => {
            // It came back elsewhere, or not yet: stop holding the key rather than hold it forever.
            lane.timer = undefined;
            lane.parkedFor = undefined;
            advance(lane);
            pump();
          }, next.holdMs);
        }
        pump();
      };

      const accept = (item: I) => {
        if (typeof settlingLimit === 'function') maxSettling = Math.max(maxSettling, settlingLimit(item));
        const key = options.keyOf(item) ?? `\u0000${unkeyed++}`;
        const slot: Slot<I> = { item, attempt: options.firstAttempt(item) };
        const lane = lanes.get(key);
        if (!lane) {
          const fresh: Lane<I> = {
            key,
            slots: [slot],
            state: 'runnable',
            timer: undefined,
            parkedFor: undefined,
          };
          lanes.set(key, fresh);
          makeRunnable(fresh);
        } else if (lane.state === 'parked' && lane.parkedFor === options.idOf(item)) {
          // The retried item is back: it goes before the ones that waited for it.
          clearTimeout(lane.timer);
          lane.timer = undefined;
          lane.parkedFor = undefined;
          lane.slots.unshift(slot);
          makeRunnable(lane, true);
        } else {
          lane.slots.push(slot);
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
        // Unsubscribed mid-flight: give every item that is not running back so the broker redelivers
        // it. A running item settles itself when its attempt ends (see finish); giving it back now
        // would have it redelivered while its handler still runs.
        for (const lane of lanes.values()) {
          clearTimeout(lane.timer);
          const from = lane.state === 'running' ? 1 : 0;
          for (const slot of lane.slots.slice(from)) void options.release(slot.item).catch(() => {});
        }
        lanes.clear();
      };
    });
}
