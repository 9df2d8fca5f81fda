// The default storage: everything in this process's memory, so `pnpm demo` needs nothing
// installed. Same shape as PostgreSQL's: the orders service appends and "publishes" in a unit of
// work, and a relay sends the committed messages after it (here a queue and a loop).
import type { Bus, SchemaRegistry, SwitchyardEvent } from '@switchyard/core';
import { MemoryProjectionStore, memoryEventStore } from '@switchyard/eventsourcing';
import { memorySagaStore } from '@switchyard/saga';
import { memoryOrderSummaryTable } from './order-summary.ts';
import type { Relay, Storage } from './storage.ts';

interface Queued {
  readonly topic: string;
  readonly event: SwitchyardEvent;
}

/** Wait after a failed publish before the relay tries the same message again. */
const RETRY_MS = 200;

export function memoryStorage(options: { readonly schemas: SchemaRegistry }): Storage {
  const events = memoryEventStore({ source: 'orders', schemas: options.schemas });
  const outbox: Queued[] = [];
  let wake: (() => void) | undefined;

  return {
    kind: 'memory',
    events,
    sagas: memorySagaStore(),
    summaries: memoryOrderSummaryTable(),
    projections: new MemoryProjectionStore(),
    async transaction(work) {
      // A memory append is atomic and is the commit point; the messages are queued only once the
      // work has returned, so a failed append (ConcurrencyError) or a throw publishes nothing.
      const pending: Queued[] = [];
      const result = await work({
        append: (streamId, inputs, expectedVersion) => events.append(streamId, inputs, { expectedVersion }),
        publish: async (topic, event) => {
          pending.push({ topic, event });
        },
      });
      outbox.push(...pending);
      wake?.();
      return result;
    },
    relay: (bus) => memoryRelay(bus, outbox, (fn) => (wake = fn)),
  };
}

/** Publish the queue's messages in order; a failed publish is tried again (at least once). */
function memoryRelay(bus: Bus, outbox: Queued[], onWake: (wake: () => void) => void): Relay {
  let closing = false;
  let relayed = 0;
  let sleeping: (() => void) | undefined;
  const nap = (ms?: number) =>
    new Promise<void>((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(resolve, ms);
      sleeping = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  onWake(() => sleeping?.());
  const loop = (async () => {
    for (;;) {
      const next = outbox[0];
      if (next === undefined) {
        if (closing) return;
        await nap();
        continue;
      }
      try {
        // The event is built already (id, time, correlation): publishing keeps all of it.
        await bus.publish(next.topic, next.event);
        outbox.shift();
        relayed++;
      } catch {
        if (closing) return; // the bus is going away: what is left stays unsent, as after a crash
        await nap(RETRY_MS);
      }
    }
  })();
  return {
    async close() {
      closing = true;
      sleeping?.();
      await loop;
    },
    stats: async () => ({ relayed, backlog: outbox.length }),
  };
}
