import type { Observable, Subscriber, TeardownLogic } from 'rxjs';
import type { BusDelivery, Delivery } from './delivery.ts';
import { Fifo } from './kit/fifo.ts';
import type { TransportDelivery } from './transport.ts';

/**
 * Deliveries from the transport, decoded in broker order and handed on a microtask later, never
 * from inside the transport's own emit (a handler that settles at once must not re-enter it).
 * What arrives while a batch is handed on waits for the next microtask, so a transport that
 * delivers again from inside a settle cannot grow one synchronous run without bound; after
 * SLICE_MS of handing on, the rest waits for the event loop's next turn.
 *
 * `toDelivery` decodes one delivery: at once, or a promise when an asynchronous schema checks it
 * (the rest waits behind it, so order holds). When `closing` emits, the transport is left and the
 * stream completes once what was received is handed on.
 */
export function intake<T>(
  deliveries: Observable<TransportDelivery>,
  closing: Observable<void>,
  toDelivery: (raw: TransportDelivery) => BusDelivery<T> | Promise<BusDelivery<T>>,
  subscriber: Subscriber<Delivery<T>>,
): TeardownLogic {
  const queue = new Fifo<TransportDelivery>();
  let scheduled = false;
  /** An asynchronous schema is checking the delivery just taken: the rest waits behind it. */
  let waiting = false;
  let ended = false;

  const flush = () => {
    scheduled = false;
    // Only what is queued now: what arrives meanwhile waits for the next microtask (see above).
    let count = queue.length;
    while (count > 0 && !waiting && !subscriber.closed) {
      if (sliceSpent()) {
        scheduled = true;
        realSetImmediate(flush);
        return;
      }
      count--;
      const delivery = toDelivery(queue.shift()!);
      if (!(delivery instanceof Promise)) subscriber.next(delivery as Delivery<T>);
      else {
        waiting = true;
        void delivery.then((checked) => {
          waiting = false;
          if (subscriber.closed) {
            giveBack(checked);
            return;
          }
          subscriber.next(checked as Delivery<T>);
          flush();
        });
      }
    }
    if (waiting || subscriber.closed) return;
    if (queue.length > 0) schedule();
    else if (ended) subscriber.complete();
  };
  const schedule = () => {
    if (scheduled || waiting) return;
    scheduled = true;
    queueMicrotask(flush);
  };

  // A plain observer, not `subscriber`: on close the transport is left first and the stream
  // completes after what was already received is handed on. takeUntil would complete first, and
  // what downstream gives back on completion would be redelivered to this member meanwhile and
  // dropped, held unsettled until the transport closes.
  const intake = deliveries.subscribe({
    next: (raw) => {
      queue.push(raw);
      schedule();
    },
    error: (error: unknown) => subscriber.error(error),
    complete: () => {
      ended = true;
      schedule();
    },
  });
  const stop = closing.subscribe(() => {
    intake.unsubscribe();
    ended = true;
    schedule();
  });
  // Left first, then what was received but not handed on is given back: given back while still
  // subscribed, it could come straight back here and be dropped.
  return () => {
    stop.unsubscribe();
    intake.unsubscribe();
    for (const raw of queue) giveBack(raw);
    queue.clear();
  };
}

/** Settle `delivery` for redelivery; failing to is the broker's to fix (it redelivers unsettled ones). */
function giveBack(delivery: Pick<TransportDelivery, 'nack'>): void {
  try {
    void Promise.resolve(delivery.nack()).catch(() => {});
  } catch {
    // A transport that throws instead of rejecting: the same.
  }
}

// How long deliveries are handed on before the event loop gets a turn. A transport that drains a
// buffer of messages through microtasks (a pull batch, a fetch) would otherwise run every handler
// of it in one macrotask, holding timers and I/O back for tens of milliseconds under load (NATS:
// 33 ms event-loop delay at p99 draining a backlog, 16-24 ms with slices, and faster, as the ack
// replies are read sooner).
const SLICE_MS = 4;
// Captured at load: a test that fakes timers must not be able to stop the slice from ending.
const realSetImmediate = setImmediate;
const clock = performance.now.bind(performance);
let sliceStartedAt: number | undefined;

function sliceSpent(): boolean {
  const now = clock();
  if (sliceStartedAt === undefined) {
    sliceStartedAt = now;
    realSetImmediate(endSlice);
    return false;
  }
  return now - sliceStartedAt > SLICE_MS;
}

function endSlice(): void {
  sliceStartedAt = undefined;
}
