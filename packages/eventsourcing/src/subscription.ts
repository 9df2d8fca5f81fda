import type { Delivery, DeliveryOrigin, EventInput, SwitchyardEvent, WireMessage } from '@switchyard/core';
import { timerMs, wholeNumber } from '@switchyard/core/transport';
import { Observable } from 'rxjs';
import { EventStoreError } from './errors.ts';
import { type SettleSink, StoreDelivery } from './store-delivery.ts';
import { type Checkpoint, type EventLog, START, type StoredEvent } from './types.ts';

export interface SubscribeOptions {
  /** The subscriber's name: its checkpoint is stored under it, so a restart resumes there. */
  readonly name: string;
  /** Where to start when no checkpoint is stored: `'start'` (default), `'end'` or a checkpoint. */
  readonly from?: 'start' | 'end' | Checkpoint;
  /** Events read per query. Default 500. */
  readonly batchSize?: number;
  /** Deliveries handed out and not yet settled, at most. Default 1 000. */
  readonly prefetch?: number;
  /** How long to wait before reading again once caught up. Default 100 ms. */
  readonly pollIntervalMs?: number;
  /** How often the acknowledged checkpoint is saved. Default 100 ms (and when the subscription ends). */
  readonly checkpointIntervalMs?: number;
  /** Complete once caught up with the head instead of waiting for new events (a catch-up run). */
  readonly stopAtHead?: boolean;
  /**
   * A bus for `handle()`'s dead letters and `context.publish` (a `Bus` fits). Without one, a
   * dead letter fails and the delivery comes back later.
   */
  readonly origin?: DeliveryOrigin;
}

/** How a subscription turns a stored event into the event handed out (upcast, validated). */
export type Admit = (stored: StoredEvent) => SwitchyardEvent | Promise<SwitchyardEvent>;

const NO_ORIGIN: DeliveryOrigin = {
  source: 'event-store',
  closing: false,
  publishWire(_topic: string, _messages: readonly WireMessage[]): Promise<void> {
    return Promise.reject(
      new EventStoreError('This subscription has no bus: pass `origin` to dead-letter or publish'),
    );
  },
  publish<T>(_topic: string, _input: EventInput<T>): Promise<SwitchyardEvent<T>> {
    return Promise.reject(
      new EventStoreError('This subscription has no bus: pass `origin` to dead-letter or publish'),
    );
  },
  buildEvent<T>(_input: EventInput<T>): Promise<SwitchyardEvent<T>> {
    return Promise.reject(
      new EventStoreError('This subscription has no bus: pass `origin` to dead-letter or publish'),
    );
  },
};

/** One event handed out and not yet acknowledged, in log order. */
interface Slot {
  readonly stored: StoredEvent;
  done: boolean;
  attempt: number;
}

/**
 * The global log as `Observable<Delivery>`. Ack = checkpoint: the saved checkpoint only moves over
 * a contiguous run of acknowledged events, so with `handle({ concurrency })` settling out of order
 * a restart redelivers what was unfinished and nothing before the checkpoint. A nack hands the same
 * event out again after its delay. Events carry their stream id as `partitionkey`, so `handle()`
 * keeps each stream in order.
 */
export function subscribeLog(log: EventLog, admit: Admit, options: SubscribeOptions): Observable<Delivery> {
  const batchSize = wholeNumber('batchSize', options.batchSize ?? 500);
  const prefetch = wholeNumber('prefetch', options.prefetch ?? 1_000);
  const pollMs = timerMs('pollIntervalMs', options.pollIntervalMs ?? 100, 0);
  const flushMs = timerMs('checkpointIntervalMs', options.checkpointIntervalMs ?? 100, 0);
  const inner = options.origin ?? NO_ORIGIN;

  return new Observable<Delivery>((subscriber) => {
    let closed = false;
    const origin: DeliveryOrigin = {
      source: inner.source,
      get closing() {
        return closed || inner.closing;
      },
      publishWire: (topic, messages) => inner.publishWire(topic, messages),
      publish: (topic, input) => inner.publish(topic, input),
      buildEvent: (input) => inner.buildEvent(input),
      transport: inner.transport,
    };
    const window: Slot[] = [];
    let base = 0; // slot number of window[0]
    let acked: Checkpoint | undefined; // last contiguous acknowledged checkpoint, unsaved
    let saving: Promise<void> = Promise.resolve();
    let flushTimer: ReturnType<typeof setTimeout> | undefined;
    let wake: (() => void) | undefined;
    let pollTimer: ReturnType<typeof setTimeout> | undefined;

    const flush = (): Promise<void> => {
      flushTimer = undefined;
      const checkpoint = acked;
      if (checkpoint === undefined) return saving;
      acked = undefined;
      saving = saving
        .then(() => log.saveCheckpoint(options.name, checkpoint))
        .catch((error: unknown) => {
          if (!closed) subscriber.error(error);
        });
      return saving;
    };

    const emit = (slot: Slot, number: number): void => {
      const raw = slot.stored.event;
      let admitted: SwitchyardEvent | Promise<SwitchyardEvent> | Error;
      try {
        admitted = admit(slot.stored);
      } catch (error) {
        admitted = error instanceof Error ? error : new Error(String(error));
      }
      const hand = (upcast: SwitchyardEvent | Error) => {
        if (subscriber.closed) return;
        subscriber.next(
          new StoreDelivery(
            '$all',
            options.name,
            slot.attempt,
            origin,
            raw,
            upcast,
            number,
            sink,
          ) as unknown as Delivery,
        );
      };
      if (admitted instanceof Promise) {
        admitted.then(hand, (error: unknown) =>
          hand(error instanceof Error ? error : new Error(String(error))),
        );
      } else hand(admitted);
    };

    const sink: SettleSink = {
      settled(delivery, as, delayMs) {
        const slot = window[delivery.slot - base];
        if (slot === undefined) return Promise.resolve();
        if (as === 'nack') {
          if (closed) return Promise.resolve(); // not acknowledged: the next run starts before it
          slot.attempt += 1;
          const again = setTimeout(() => emit(slot, delivery.slot), delayMs ?? 0);
          again.unref?.();
          return Promise.resolve();
        }
        slot.done = true;
        let advanced = false;
        while (window.length > 0 && window[0]!.done) {
          acked = window.shift()!.stored.checkpoint;
          base += 1;
          advanced = true;
        }
        if (advanced) {
          wake?.();
          if (window.length === 0 && (closed || options.stopAtHead)) return flush();
          flushTimer ??= setTimeout(flush, flushMs);
        }
        return Promise.resolve();
      },
    };

    const run = async () => {
      const stored = await log.loadCheckpoint(options.name);
      let cursor: Checkpoint =
        stored ??
        (options.from === 'end'
          ? await log.head()
          : options.from === 'start' || options.from === undefined
            ? START
            : options.from);
      while (!closed) {
        const room = prefetch - window.length;
        if (room <= 0) {
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = undefined;
          continue;
        }
        const batch = await log.readAll(cursor, Math.min(batchSize, room));
        if (closed) return;
        if (batch.length === 0) {
          // Complete only once all is settled: completing tears down, and handle() gives back
          // unstarted work when its origin is closing.
          if (options.stopAtHead && window.length === 0) {
            subscriber.complete();
            return;
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
            pollTimer = setTimeout(resolve, pollMs);
          });
          wake = undefined;
          continue;
        }
        for (const event of batch) {
          const slot: Slot = { stored: event, done: false, attempt: 1 };
          window.push(slot);
          emit(slot, base + window.length - 1);
        }
        cursor = batch[batch.length - 1]!.checkpoint;
      }
    };
    run().catch((error: unknown) => {
      if (!closed) subscriber.error(error);
    });

    return () => {
      closed = true;
      clearTimeout(pollTimer);
      wake?.();
      if (flushTimer !== undefined) clearTimeout(flushTimer);
      void flush();
    };
  });
}
