import type { SwitchyardEvent } from '@switchyard/core';
import { ProjectionBusyError } from './errors.ts';
import { type EventStore, type Lag, lagFrom } from './event-store.ts';
import { type Checkpoint, START, type StoredEvent } from './types.ts';

export interface ProjectionContext<Tx> {
  /** The transaction the checkpoint commits in (PostgreSQL: a client inside BEGIN). */
  readonly tx: Tx;
  readonly name: string;
  /** The version being built: write to this version's table (e.g. `order_summary_v${version}`). */
  readonly version: number;
  readonly stored: StoredEvent;
}

// biome-ignore lint/suspicious/noExplicitAny: a handler names its own data type
export type ProjectionHandler<Tx> = (event: SwitchyardEvent<any>, context: ProjectionContext<Tx>) => unknown;

export interface ProjectionDefinition<Tx = unknown> {
  readonly name: string;
  /** Bump when the handlers change: the new version is rebuilt beside the old one, then switched to. */
  readonly version: number;
  /** Handlers by event type; events of other types are passed over. */
  readonly handlers: Readonly<Record<string, ProjectionHandler<Tx>>>;
  /** Empty this version's read model; runs (in the transaction) before a build from the start. */
  readonly truncate?: (tx: Tx, context: { readonly name: string; readonly version: number }) => unknown;
}

/** Declare a projection: a name, a version, handlers by event type. */
export function projection<Tx = unknown>(definition: ProjectionDefinition<Tx>): ProjectionDefinition<Tx> {
  if (!definition.name) throw new TypeError('A projection needs a name');
  if (!Number.isInteger(definition.version) || definition.version < 1) {
    throw new TypeError(`Projection '${definition.name}': version must be a positive integer`);
  }
  return definition;
}

/** Held while one runner (or rebuild) owns a projection version; `lost` aborts if the hold is lost. */
export interface ProjectionLease<Tx> {
  readonly name: string;
  readonly version: number;
  readonly lost: AbortSignal;
  /** Run `work` and move the checkpoint from `from` to `to` in one transaction; false if another moved it. */
  commit(from: Checkpoint | undefined, to: Checkpoint, work: (tx: Tx) => Promise<void>): Promise<boolean>;
  /** Run `work` (a truncate) and forget the checkpoint, in one transaction. */
  reset(work: (tx: Tx) => Promise<void>): Promise<void>;
  release(): Promise<void>;
}

/** Where projection checkpoints, locks and the active version live (memory, PostgreSQL). */
export interface ProjectionStore<Tx = unknown> {
  /** Take the lock of `name@version`: wait for it, or with `wait: false` answer undefined when busy. */
  acquire(
    name: string,
    version: number,
    options: { wait: boolean; signal?: AbortSignal },
  ): Promise<ProjectionLease<Tx> | undefined>;
  checkpoint(name: string, version: number): Promise<Checkpoint | undefined>;
  /** Mark `version` as the one readers should query. */
  activate(name: string, version: number): Promise<void>;
  active(name: string): Promise<number | undefined>;
}

export interface RunProjectionOptions<Tx> {
  readonly store: EventStore;
  readonly projections: ProjectionStore<Tx>;
  /** Events applied per transaction. Default 500. */
  readonly batchSize?: number;
  /** Wait when caught up. Default 100 ms. */
  readonly pollIntervalMs?: number;
  /** Wait after a failed batch before trying it again. Default 1 000 ms. */
  readonly retryDelayMs?: number;
  /** Told of every failed batch (it is rolled back and tried again). */
  readonly onError?: (error: unknown) => void;
}

export interface ProjectionRunner {
  /** `waiting` for the lock, `active`, or `stopped`. */
  readonly status: 'waiting' | 'active' | 'stopped';
  /** Events applied by this runner. */
  readonly applied: number;
  /** Resolves once the runner has applied everything up to the head as of this call. */
  caughtUp(): Promise<void>;
  lag(): Promise<Lag>;
  /** Stop after the current batch and release the lock. */
  stop(): Promise<void>;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

/** Apply one batch of events in one transaction with the checkpoint. */
async function applyBatch<Tx>(
  definition: ProjectionDefinition<Tx>,
  store: EventStore,
  lease: ProjectionLease<Tx>,
  from: Checkpoint | undefined,
  batch: readonly StoredEvent[],
): Promise<boolean> {
  const to = batch[batch.length - 1]!.checkpoint;
  return lease.commit(from, to, async (tx) => {
    for (const stored of batch) {
      const handler = definition.handlers[stored.event.type];
      if (handler === undefined) continue;
      const admitted = store.schemas.admit(stored.event);
      const event = admitted instanceof Promise ? await admitted : admitted;
      const result = handler(event, { tx, name: definition.name, version: definition.version, stored });
      if (result instanceof Promise) await result;
    }
  });
}

/**
 * Keep a projection version up to date: one active runner per `name@version` across processes
 * (the others wait for the lock); each batch's handler writes and its checkpoint commit together.
 */
export function runProjection<Tx>(
  definition: ProjectionDefinition<Tx>,
  options: RunProjectionOptions<Tx>,
): ProjectionRunner {
  const { store, projections } = options;
  const batchSize = options.batchSize ?? 500;
  const pollMs = options.pollIntervalMs ?? 100;
  const retryMs = options.retryDelayMs ?? 1_000;
  const stopping = new AbortController();
  let status: ProjectionRunner['status'] = 'waiting';
  let applied = 0;
  let position: Checkpoint | undefined;
  const waiters: { target: Checkpoint; resolve: () => void }[] = [];
  const notify = () => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i]!;
      if (position !== undefined && compare(position, w.target) >= 0) {
        waiters.splice(i, 1);
        w.resolve();
      }
    }
  };

  const runLease = async (lease: ProjectionLease<Tx>) => {
    const signal = AbortSignal.any([stopping.signal, lease.lost]);
    let from = await projections.checkpoint(definition.name, definition.version);
    if (from === undefined && definition.truncate) {
      await lease.reset(async (tx) => {
        await definition.truncate!(tx, { name: definition.name, version: definition.version });
      });
    }
    position = from ?? START;
    notify();
    while (!signal.aborted) {
      let batch: StoredEvent[];
      try {
        batch = await store.log.readAll(from ?? START, batchSize);
        if (batch.length === 0) {
          await sleep(pollMs, signal);
          continue;
        }
        if (signal.aborted) break;
        if (!(await applyBatch(definition, store, lease, from, batch))) return; // someone else moved it
      } catch (error) {
        if (signal.aborted) break;
        options.onError?.(error);
        await sleep(retryMs, signal);
        continue;
      }
      applied += batch.length;
      from = batch[batch.length - 1]!.checkpoint;
      position = from;
      notify();
    }
  };

  const done = (async () => {
    while (!stopping.signal.aborted) {
      status = 'waiting';
      let lease: ProjectionLease<Tx> | undefined;
      try {
        lease = await projections.acquire(definition.name, definition.version, {
          wait: true,
          signal: stopping.signal,
        });
      } catch (error) {
        options.onError?.(error);
        await sleep(retryMs, stopping.signal);
        continue;
      }
      if (lease === undefined) break;
      status = 'active';
      try {
        await runLease(lease);
      } catch (error) {
        options.onError?.(error);
      } finally {
        await lease.release().catch(() => {});
      }
    }
    status = 'stopped';
  })();

  return {
    get status() {
      return status;
    },
    get applied() {
      return applied;
    },
    async caughtUp() {
      const target = await store.log.head();
      if (position !== undefined && compare(position, target) >= 0) return;
      await new Promise<void>((resolve) => waiters.push({ target, resolve }));
    },
    lag: async () => lagFrom(store.log, await projections.checkpoint(definition.name, definition.version)),
    async stop() {
      stopping.abort();
      await done;
      for (const w of waiters.splice(0)) w.resolve();
    },
  };
}

export interface RebuildResult {
  readonly events: number;
  readonly ms: number;
}

/**
 * Build `definition.version` from the start beside the live version, then make it the active one.
 * Holds that version's lock throughout: a runner of the same version waits, and a rebuild of a
 * version a runner holds is refused with `ProjectionBusyError`.
 */
export async function rebuildProjection<Tx>(
  definition: ProjectionDefinition<Tx>,
  options: Omit<RunProjectionOptions<Tx>, 'pollIntervalMs' | 'retryDelayMs' | 'onError'>,
): Promise<RebuildResult> {
  const { store, projections } = options;
  const batchSize = options.batchSize ?? 500;
  const lease = await projections.acquire(definition.name, definition.version, { wait: false });
  if (lease === undefined) {
    throw new ProjectionBusyError(
      `Projection '${definition.name}' version ${definition.version} is held by another runner or rebuild`,
    );
  }
  const started = performance.now();
  let events = 0;
  try {
    await lease.reset(async (tx) => {
      await definition.truncate?.(tx, { name: definition.name, version: definition.version });
    });
    let from: Checkpoint | undefined;
    for (;;) {
      if (lease.lost.aborted)
        throw new ProjectionBusyError(`Projection '${definition.name}': lost its lock while rebuilding`);
      const batch = await store.log.readAll(from ?? START, batchSize);
      if (batch.length === 0) break;
      if (!(await applyBatch(definition, store, lease, from, batch))) {
        throw new ProjectionBusyError(`Projection '${definition.name}': checkpoint moved under the rebuild`);
      }
      events += batch.length;
      from = batch[batch.length - 1]!.checkpoint;
    }
    await projections.activate(definition.name, definition.version);
  } finally {
    await lease.release();
  }
  return { events, ms: performance.now() - started };
}

function compare(a: Checkpoint, b: Checkpoint): number {
  if (a.tx !== b.tx) return BigInt(a.tx) < BigInt(b.tx) ? -1 : 1;
  return a.position - b.position;
}
