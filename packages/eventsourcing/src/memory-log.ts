import type { SwitchyardEvent } from '@switchyard/core';
import { ConcurrencyError } from './errors.ts';
import {
  type AppendResult,
  type Checkpoint,
  compareCheckpoints,
  type EventLog,
  type ExpectedVersion,
  type ReadStreamOptions,
  type Snapshot,
  START,
  type StoredEvent,
} from './types.ts';

/**
 * The event log in process memory: for tests and single-process tools. Each append is one
 * "transaction" that commits at once, so commit order is position order and there are no gaps.
 */
export class MemoryEventLog implements EventLog {
  readonly #streams = new Map<string, StoredEvent[]>();
  readonly #all: StoredEvent[] = [];
  readonly #byId = new Map<string, StoredEvent>();
  readonly #snapshots = new Map<string, Snapshot>();
  readonly #checkpoints = new Map<string, Checkpoint>();
  #tx = 0;

  async append(
    streamId: string,
    events: readonly SwitchyardEvent[],
    expected: ExpectedVersion,
  ): Promise<AppendResult> {
    const stream = this.#streams.get(streamId) ?? [];
    const fresh = events.filter(
      (e, i) => !this.#byId.has(e.id) && events.findIndex((o) => o.id === e.id) === i,
    );
    const current = stream.length;
    if (fresh.length === 0 && events.length > 0) {
      const last = this.#byId.get(events[events.length - 1]!.id)!;
      return { nextVersion: current, position: last.position, events: [] };
    }
    const holds =
      expected === 'any' ||
      (expected === 'no_stream' && current === 0) ||
      (expected === 'exists' && current > 0) ||
      expected === current;
    if (!holds) throw new ConcurrencyError(streamId, expected, current);
    this.#tx += 1;
    const tx = String(this.#tx);
    let version = current;
    for (const event of fresh) {
      version += 1;
      const position = this.#all.length + 1;
      const stored: StoredEvent = { event, streamId, version, position, checkpoint: { tx, position } };
      stream.push(stored);
      this.#all.push(stored);
      this.#byId.set(event.id, stored);
    }
    this.#streams.set(streamId, stream);
    return { nextVersion: version, position: this.#all.length, events: fresh };
  }

  async readStream(streamId: string, options: ReadStreamOptions): Promise<StoredEvent[]> {
    const from = options.fromVersion ?? 1;
    const to = options.toVersion ?? Number.POSITIVE_INFINITY;
    const toTime = options.toTime === undefined ? undefined : new Date(options.toTime).getTime();
    return (this.#streams.get(streamId) ?? []).filter(
      (s) =>
        s.version >= from && s.version <= to && (toTime === undefined || Date.parse(s.event.time) <= toTime),
    );
  }

  async readAll(from: Checkpoint, limit: number): Promise<StoredEvent[]> {
    // Positions are 1..n without holes here, and tx order is position order.
    const out: StoredEvent[] = [];
    let i = compareCheckpoints(from, START) === 0 ? 0 : this.#indexAfter(from);
    for (; i < this.#all.length && out.length < limit; i++) out.push(this.#all[i]!);
    return out;
  }

  #indexAfter(from: Checkpoint): number {
    let lo = 0;
    let hi = this.#all.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareCheckpoints(this.#all[mid]!.checkpoint, from) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  async head(): Promise<Checkpoint> {
    return this.#all[this.#all.length - 1]?.checkpoint ?? START;
  }

  async oldestAfter(after: Checkpoint): Promise<Date | undefined> {
    const next = this.#all[this.#indexAfter(after)];
    return next ? new Date(next.event.time) : undefined;
  }

  async loadSnapshot(streamId: string, name: string): Promise<Snapshot | undefined> {
    return this.#snapshots.get(`${name}\u0000${streamId}`);
  }

  async saveSnapshot(streamId: string, name: string, snapshot: Snapshot): Promise<void> {
    // A copy, as a database would keep: later changes to the live state must not reach it.
    this.#snapshots.set(`${name}\u0000${streamId}`, { ...snapshot, state: structuredClone(snapshot.state) });
  }

  async loadCheckpoint(name: string): Promise<Checkpoint | undefined> {
    return this.#checkpoints.get(name);
  }

  async saveCheckpoint(name: string, checkpoint: Checkpoint): Promise<void> {
    this.#checkpoints.set(name, checkpoint);
  }
}
