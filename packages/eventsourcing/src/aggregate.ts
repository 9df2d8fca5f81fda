import { createHash } from 'node:crypto';
import type { SwitchyardEvent } from '@switchyard/core';
import type { EventLog, Snapshot, StoredEvent } from './types.ts';

export type Evolve<S, T = unknown> = (state: S, event: SwitchyardEvent<T>) => S;

export interface AggregateOptions<S, T = unknown> {
  /** The state before any event; a function is called for each fold, a value is cloned. */
  readonly initial: S | (() => S);
  readonly evolve: Evolve<S, T>;
  /**
   * Save a snapshot when the version crosses a multiple of this (0 or unset: none). The state must
   * survive `structuredClone` and, in PostgreSQL, JSON.
   */
  readonly snapshotEvery?: number;
  /**
   * Stamp of the code that folds; a snapshot with another stamp is ignored. Default: a hash of
   * `evolve`'s source and the initial state, so changing either invalidates old snapshots.
   */
  readonly snapshotVersion?: string;
  /** Which snapshot series (several aggregates may fold one stream). Default `'default'`. */
  readonly name?: string;
  /** State as of a version (number) or a time (Date or ISO string): events after it are not folded. */
  readonly asOf?: number | Date | string;
}

export interface AggregateState<S> {
  readonly state: S;
  /** The stream version folded into `state` (0: no events). Use it as the expected version. */
  readonly version: number;
}

const stamps = new WeakMap<object, string>();

function stampOf(options: AggregateOptions<unknown, unknown>): string {
  if (options.snapshotVersion !== undefined) return options.snapshotVersion;
  let stamp = stamps.get(options.evolve);
  if (stamp === undefined) {
    const initial =
      typeof options.initial === 'function' ? String(options.initial) : JSON.stringify(options.initial);
    stamp = createHash('sha256')
      .update(String(options.evolve))
      .update('\u0000')
      .update(initial ?? '')
      .digest('hex')
      .slice(0, 16);
    stamps.set(options.evolve, stamp);
  }
  return stamp;
}

function initialOf<S>(initial: S | (() => S)): S {
  return typeof initial === 'function' ? (initial as () => S)() : structuredClone(initial);
}

/** Fold a stream, starting from a valid snapshot when there is one, and save a newer snapshot. */
export async function foldStream<S, T>(
  log: EventLog,
  streamId: string,
  options: AggregateOptions<S, T>,
  read: (
    fromVersion: number,
    toVersion: number | undefined,
    toTime: Date | undefined,
  ) => Promise<StoredEvent<T>[]>,
): Promise<AggregateState<S>> {
  const every = options.snapshotEvery ?? 0;
  const name = options.name ?? 'default';
  const asOf = options.asOf;
  const toVersion = typeof asOf === 'number' ? asOf : undefined;
  const toTime = asOf === undefined || typeof asOf === 'number' ? undefined : new Date(asOf);
  const stamp = every > 0 ? stampOf(options as AggregateOptions<unknown, unknown>) : '';
  let state: S | undefined;
  let version = 0;
  if (every > 0 && toTime === undefined) {
    const snapshot = await log.loadSnapshot(streamId, name);
    if (
      snapshot &&
      snapshot.snapshotVersion === stamp &&
      (toVersion === undefined || snapshot.version <= toVersion)
    ) {
      state = structuredClone(snapshot.state) as S;
      version = snapshot.version;
    }
  }
  state ??= initialOf(options.initial);
  let pending: Snapshot | undefined;
  for (const stored of await read(version + 1, toVersion, toTime)) {
    state = options.evolve(state, stored.event);
    version = stored.version;
    // A fold up to a time may leave out events of lower versions: not a state to snapshot.
    if (every > 0 && toTime === undefined && version % every === 0)
      pending = { version, state: structuredClone(state), snapshotVersion: stamp };
  }
  if (pending) await log.saveSnapshot(streamId, name, pending);
  return { state, version };
}
