import { createEvent, type Delivery, SchemaRegistry, type SwitchyardEvent } from '@switchyard/core';
import type { Observable } from 'rxjs';
import { type AggregateOptions, type AggregateState, foldStream } from './aggregate.ts';
import { ConcurrencyError, EventStoreError } from './errors.ts';
import { type SubscribeOptions, subscribeLog } from './subscription.ts';
import type {
  AppendResult,
  Checkpoint,
  EventLog,
  ExpectedVersion,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  StoredEvent,
} from './types.ts';

export interface EventStoreOptions {
  /** CloudEvents `source` of appended events that name none. Default `'event-store'`. */
  readonly source?: string;
  /**
   * The bus's schema registry: appended events are validated and stamped with `dataversion`, and
   * older versions are upcast on every read (replay, aggregates, subscriptions).
   */
  readonly schemas?: SchemaRegistry;
}

export interface AppendOptions {
  /** Default `'any'`. */
  readonly expectedVersion?: ExpectedVersion;
  /** Run the append in the caller's transaction (PostgreSQL: a client inside BEGIN). */
  readonly client?: unknown;
}

export interface DecideOptions<S, C, T = unknown> extends Omit<AggregateOptions<S, T>, 'asOf'> {
  /** The events a command leads to in a state (none: nothing is appended). Throw to refuse it. */
  readonly decide: (state: S, command: C) => readonly NewEvent[] | Promise<readonly NewEvent[]>;
  /** Attempts when another writer got there first. Default 5. */
  readonly maxAttempts?: number;
}

export interface DecideResult<S> {
  /** The state after the new events. */
  readonly state: S;
  readonly version: number;
  readonly events: readonly SwitchyardEvent[];
}

export interface Lag {
  /** Events in the log after the subscriber's checkpoint, by position (an upper bound with holes). */
  readonly events: number;
  /** Age of the oldest event not yet processed, ms (0: caught up). */
  readonly ageMs: number;
  readonly head: Checkpoint;
  readonly checkpoint: Checkpoint | undefined;
}

const NO_SCHEMAS = new SchemaRegistry();

/**
 * An event store over any `EventLog` backend: events are CloudEvents (built with core's
 * `createEvent`), read back through the schema registry, folded into aggregates with snapshots,
 * and subscribed to as `Observable<Delivery>` for `handle()`.
 */
export class EventStore {
  readonly log: EventLog;
  readonly source: string;
  readonly schemas: SchemaRegistry;

  constructor(log: EventLog, options: EventStoreOptions = {}) {
    this.log = log;
    this.source = options.source ?? 'event-store';
    this.schemas = options.schemas ?? NO_SCHEMAS;
  }

  /** Append events to a stream atomically. Throws `ConcurrencyError` when `expectedVersion` does not hold. */
  async append(
    streamId: string,
    events: readonly NewEvent[],
    options: AppendOptions = {},
  ): Promise<AppendResult> {
    if (typeof streamId !== 'string' || streamId === '')
      throw new EventStoreError('A stream id is a non-empty string');
    const built: SwitchyardEvent[] = [];
    for (const input of events) {
      const version = this.schemas.versionOf(input.type);
      const extensions =
        version === undefined || input.extensions?.dataversion !== undefined
          ? input.extensions
          : { ...input.extensions, dataversion: String(version) };
      const event = createEvent({ ...input, key: input.key ?? streamId, extensions }, this.source);
      if (event.data instanceof Uint8Array)
        throw new EventStoreError(`Event '${event.type}': data must be JSON, not bytes`);
      await this.schemas.check(event.type, event.data);
      built.push(event);
    }
    return this.log.append(streamId, built, options.expectedVersion ?? 'any', { client: options.client });
  }

  /** A stream's events, upcast to the current schema versions. */
  async readStream<T = unknown>(
    streamId: string,
    options: ReadStreamOptions = {},
  ): Promise<StoredEvent<T>[]> {
    return this.#admitAll<T>(await this.log.readStream(streamId, options));
  }

  /** Events of all streams after `from`, in commit order, upcast. */
  async readAll<T = unknown>(options: ReadAllOptions = {}): Promise<StoredEvent<T>[]> {
    return this.#admitAll<T>(
      await this.log.readAll(options.from ?? { tx: '0', position: 0 }, options.limit ?? 1_000),
    );
  }

  /** Fold a stream into state (as of a version or time), using and refreshing snapshots. */
  aggregate<S, T = unknown>(streamId: string, options: AggregateOptions<S, T>): Promise<AggregateState<S>> {
    return foldStream<S, T>(this.log, streamId, options, (fromVersion, toVersion, toTime) =>
      this.readStream<T>(streamId, { fromVersion, toVersion, toTime }),
    );
  }

  /**
   * Load, decide, append with the loaded version as the expected one; on `ConcurrencyError` load
   * and decide again (up to `maxAttempts`).
   */
  async decide<S, C, T = unknown>(
    streamId: string,
    command: C,
    options: DecideOptions<S, C, T>,
  ): Promise<DecideResult<S>> {
    const attempts = options.maxAttempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      const { state, version } = await this.aggregate<S, T>(streamId, options);
      const inputs = await options.decide(state, command);
      if (inputs.length === 0) return { state, version, events: [] };
      try {
        const result = await this.append(streamId, inputs, { expectedVersion: version });
        let next = state;
        for (const event of result.events)
          next = options.evolve(next, (await this.schemas.admit(event)) as SwitchyardEvent<T>);
        return { state: next, version: result.nextVersion, events: result.events };
      } catch (error) {
        if (!(error instanceof ConcurrencyError) || attempt >= attempts) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
      }
    }
  }

  /** The global log as `Observable<Delivery>` for `handle()`; ack = checkpoint. */
  subscribe(options: SubscribeOptions): Observable<Delivery> {
    return subscribeLog(this.log, (stored) => this.schemas.admit(stored.event), options);
  }

  /** How far a subscriber (or projection checkpoint name) is behind the head. */
  async lag(name: string): Promise<Lag> {
    return lagOf(this.log, name);
  }

  async #admitAll<T>(stored: StoredEvent[]): Promise<StoredEvent<T>[]> {
    const out: StoredEvent<T>[] = [];
    for (const s of stored) {
      const admitted = this.schemas.admit<T>(s.event);
      const event = admitted instanceof Promise ? await admitted : admitted;
      out.push(event === s.event ? (s as StoredEvent<T>) : { ...s, event });
    }
    return out;
  }
}

export async function lagOf(log: EventLog, name: string): Promise<Lag> {
  return lagFrom(log, await log.loadCheckpoint(name));
}

/** Lag of a reader standing at `checkpoint` (undefined: at the start). */
export async function lagFrom(log: EventLog, checkpoint: Checkpoint | undefined): Promise<Lag> {
  const head = await log.head();
  const from = checkpoint ?? { tx: '0', position: 0 };
  const oldest = await log.oldestAfter(from);
  return {
    events: Math.max(0, head.position - from.position),
    ageMs: oldest ? Math.max(0, Date.now() - oldest.getTime()) : 0,
    head,
    checkpoint,
  };
}
