import { SagaConcurrencyError } from './errors.ts';
import type { OutgoingMessage, SagaChange, SagaCommitResult, SagaRecord, SagaStore } from './store.ts';

export interface MemorySagaStoreOptions {
  /** The clock timers are due by. Default: Date.now. */
  readonly now?: () => number;
}

interface Timer {
  readonly token: string;
  readonly dueAt: number;
  readonly topic: string;
  readonly event: OutgoingMessage['event'];
  /** Taken by a poller that is emitting it. */
  firing: boolean;
}

interface Instance {
  record: SagaRecord;
  readonly timers: Map<string, Timer>;
}

/** A SagaStore in this process's memory: for tests and memory://. Commits are atomic (one tick). */
export interface MemorySagaStore extends SagaStore {
  /** Armed timers not yet fired, over all instances. */
  readonly pendingTimers: number;
}

/**
 * Keeps state, handled ids and timers in maps. Every call does its whole check-and-write in one
 * synchronous step, so several runSaga pipelines and pollers sharing it see each commit whole.
 * It has no outbox: committed messages are handed back for the caller to publish.
 */
export function memorySagaStore(options: MemorySagaStoreOptions = {}): MemorySagaStore {
  const now = options.now ?? Date.now;
  const instances = new Map<string, Instance>();
  // Handled ids per instance; dropped when the instance completes (later events are ignored anyway).
  const handled = new Map<string, Set<string>>();
  let pending = 0;

  const keyOf = (saga: string, correlationId: string) => `${saga}\u0000${correlationId}`;

  const dropTimer = (instance: Instance, name: string) => {
    const timer = instance.timers.get(name);
    if (timer === undefined) return;
    instance.timers.delete(name);
    if (!timer.firing) pending--;
  };

  return {
    get pendingTimers() {
      return pending;
    },

    load<S>(saga: string, correlationId: string): Promise<SagaRecord<S> | undefined> {
      return Promise.resolve(instances.get(keyOf(saga, correlationId))?.record as SagaRecord<S> | undefined);
    },

    commit<S>(change: SagaChange<S>): Promise<SagaCommitResult> {
      const key = keyOf(change.saga, change.correlationId);
      let ids = handled.get(key);
      if (ids?.has(change.eventId)) return Promise.resolve({ status: 'duplicate' });
      const instance = instances.get(key);
      if ((instance?.record.version ?? 0) !== change.expectedVersion) {
        return Promise.reject(
          new SagaConcurrencyError(change.saga, change.correlationId, change.expectedVersion),
        );
      }
      const record: SagaRecord = {
        state: change.state,
        version: change.expectedVersion + 1,
        completed: change.completed,
        timers: change.timers,
      };
      const current = instance ?? { record, timers: new Map<string, Timer>() };
      current.record = record;
      instances.set(key, current);
      for (const name of change.cancel) dropTimer(current, name);
      if (change.completed) {
        for (const name of [...current.timers.keys()]) dropTimer(current, name);
        handled.delete(key);
      } else {
        for (const request of change.schedule) {
          dropTimer(current, request.timer);
          current.timers.set(request.timer, {
            token: request.token,
            dueAt: now() + request.afterMs,
            topic: request.topic,
            event: request.event,
            firing: false,
          });
          pending++;
        }
        if (ids === undefined) {
          ids = new Set();
          handled.set(key, ids);
        }
        ids.add(change.eventId);
      }
      return Promise.resolve({ status: 'committed', dispatch: change.messages });
    },

    async fireDueTimers(limit, emit) {
      const at = now();
      const taken: { instance: Instance; name: string; timer: Timer }[] = [];
      for (const instance of instances.values()) {
        for (const [name, timer] of instance.timers) {
          if (timer.firing || timer.dueAt > at) continue;
          timer.firing = true;
          pending--;
          taken.push({ instance, name, timer });
          if (taken.length >= limit) break;
        }
        if (taken.length >= limit) break;
      }
      if (taken.length === 0) return 0;
      taken.sort((a, b) => a.timer.dueAt - b.timer.dueAt);
      const time = new Date(at).toISOString();
      try {
        await emit(taken.map(({ timer }) => ({ topic: timer.topic, event: { ...timer.event, time } })));
      } catch (error) {
        // Not emitted: armed again for the next poll, unless cancelled or replaced meanwhile.
        for (const { instance, name, timer } of taken) {
          if (instance.timers.get(name) === timer) {
            timer.firing = false;
            pending++;
          }
        }
        throw error;
      }
      // Fired: gone from the due set. The record keeps its token until the timeout is handled.
      for (const { instance, name, timer } of taken) {
        if (instance.timers.get(name) === timer) instance.timers.delete(name);
      }
      return taken.length;
    },
  };
}
