import { EventStore, type EventStoreOptions } from './event-store.ts';
import { MemoryEventLog } from './memory-log.ts';

/** An event store in process memory (tests, tools): the same behaviour as the PostgreSQL one. */
export function memoryEventStore(options: EventStoreOptions = {}): EventStore {
  return new EventStore(new MemoryEventLog(), options);
}
