import type { EventInput, SwitchyardEvent } from '@switchyard/core';

/**
 * What the stream must look like for an append to go through: its current version (0 = no events),
 * `'no_stream'` (no event yet), `'exists'` (at least one event) or `'any'` (no check).
 */
export type ExpectedVersion = number | 'no_stream' | 'exists' | 'any';

/** An event to append: a CloudEvent input; `source`, `id`, `time` and `dataversion` are filled in. */
export type NewEvent<T = unknown> = EventInput<T>;

/** An event as stored: the CloudEvent, its stream and version in it, and its place in the log. */
export interface StoredEvent<T = unknown> {
  readonly event: SwitchyardEvent<T>;
  readonly streamId: string;
  /** 1-based version of the stream this event made. */
  readonly version: number;
  /** Global position in the log (increasing, with holes where an append rolled back). */
  readonly position: number;
  /** Where a reader stands after this event. */
  readonly checkpoint: Checkpoint;
}

/**
 * A place in the global log. `tx` orders commits (PostgreSQL's transaction id, as a decimal string);
 * `position` orders events within one commit. Compound, so a commit that lands late is never
 * behind a checkpoint that already moved past its position.
 */
export interface Checkpoint {
  readonly tx: string;
  readonly position: number;
}

/** The start of the log. */
export const START: Checkpoint = Object.freeze({ tx: '0', position: 0 });

export interface AppendResult {
  /** The stream's version after the append. */
  readonly nextVersion: number;
  /** Global position of the last event appended (of the existing one if all were duplicates). */
  readonly position: number;
  /** The events as stored (duplicates of earlier appends left out). */
  readonly events: readonly SwitchyardEvent[];
}

export interface ReadStreamOptions {
  /** First version to read (inclusive). Default 1. */
  readonly fromVersion?: number;
  /** Last version to read (inclusive). */
  readonly toVersion?: number;
  /** Only events whose `time` is at or before this instant. */
  readonly toTime?: Date | string;
}

export interface ReadAllOptions {
  /** Read after this checkpoint. Default: the start of the log. */
  readonly from?: Checkpoint;
  /** At most this many events. Default 1 000. */
  readonly limit?: number;
}

export interface Snapshot {
  readonly version: number;
  readonly state: unknown;
  /** Stamp of the code that made it; a snapshot with another stamp is ignored. */
  readonly snapshotVersion: string;
}

/** The head of the log: the last event a reader can see now, and when it was appended. */
export interface LogHead {
  readonly checkpoint: Checkpoint;
}

/**
 * What a storage backend implements; `eventStore()` builds the rest (CloudEvents, upcasting,
 * aggregates, subscriptions) on top, so memory and PostgreSQL behave the same.
 */
export interface EventLog {
  /**
   * Append events (already complete CloudEvents) atomically. Throws `ConcurrencyError` when
   * `expected` does not hold. Events whose id is stored already are left out; when all are, the
   * append succeeds without a version check (a retried append).
   * `options.client` lets a backend run inside a caller's transaction.
   */
  append(
    streamId: string,
    events: readonly SwitchyardEvent[],
    expected: ExpectedVersion,
    options?: { readonly client?: unknown },
  ): Promise<AppendResult>;
  readStream(streamId: string, options: ReadStreamOptions): Promise<StoredEvent[]>;
  /** Events after `from` whose commit is final, in commit order. Never skips a late commit. */
  readAll(from: Checkpoint, limit: number): Promise<StoredEvent[]>;
  /** The last checkpoint a reader can reach now (`START` for an empty log). */
  head(): Promise<Checkpoint>;
  /** The time of the oldest event after `after` (for lag as an age), if any. */
  oldestAfter(after: Checkpoint): Promise<Date | undefined>;
  loadSnapshot(streamId: string, name: string): Promise<Snapshot | undefined>;
  saveSnapshot(streamId: string, name: string, snapshot: Snapshot): Promise<void>;
  loadCheckpoint(name: string): Promise<Checkpoint | undefined>;
  saveCheckpoint(name: string, checkpoint: Checkpoint): Promise<void>;
}

/** Compare two checkpoints: negative, zero or positive. */
export function compareCheckpoints(a: Checkpoint, b: Checkpoint): number {
  if (a.tx !== b.tx) {
    const ta = BigInt(a.tx);
    const tb = BigInt(b.tx);
    return ta < tb ? -1 : 1;
  }
  return a.position - b.position;
}
