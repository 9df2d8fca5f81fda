import {
  exponentialBackoff,
  NonRetryableError,
  type RetryOptions,
  retryDecision,
  SchemaValidationError,
  type SwitchyardEvent,
} from '@switchyard/core';
import { timerMs, wholeNumber } from '@switchyard/core/transport';
import { ProjectionBusyError, ProjectionHaltedError } from './errors.ts';
import { type EventStore, type Lag, lagFrom } from './event-store.ts';
import { type Checkpoint, compareCheckpoints, START, type StoredEvent } from './types.ts';

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

export interface ProjectionBatchContext<Tx> {
  /** The transaction the checkpoint commits in (PostgreSQL: a client inside BEGIN). */
  readonly tx: Tx;
  readonly name: string;
  readonly version: number;
}

/** Handles a batch's events at once (one multi-row write instead of one per event), upcast, in log order. */
export type ProjectionBatchHandler<Tx> = (
  // biome-ignore lint/suspicious/noExplicitAny: a handler names its own data type
  events: readonly StoredEvent<any>[],
  context: ProjectionBatchContext<Tx>,
) => unknown;

export interface ProjectionDefinition<Tx = unknown> {
  readonly name: string;
  /** Bump when the handlers change: the new version is rebuilt beside the old one, then switched to. */
  readonly version: number;
  /** Handlers by event type; events of other types are passed over. Either this or `batch`. */
  readonly handlers?: Readonly<Record<string, ProjectionHandler<Tx>>>;
  /**
   * Or: one handler for all of a batch's events of `types` (in log order, up to the runner's
   * `batchSize`), for read models written set-wise. When it throws, the batch's events are taken
   * one at a time to find the failing one, which the retry and poison policy then apply to.
   */
  readonly batch?: { readonly types: readonly string[]; readonly handle: ProjectionBatchHandler<Tx> };
  /** Empty this version's read model; runs (in the transaction) before a build from the start. */
  readonly truncate?: (tx: Tx, context: { readonly name: string; readonly version: number }) => unknown;
}

/** Declare a projection: a name, a version, handlers by event type. */
export function projection<Tx = unknown>(definition: ProjectionDefinition<Tx>): ProjectionDefinition<Tx> {
  if (!definition.name) throw new TypeError('A projection needs a name');
  if (!Number.isInteger(definition.version) || definition.version < 1) {
    throw new TypeError(`Projection '${definition.name}': version must be a positive integer`);
  }
  if ((definition.handlers === undefined) === (definition.batch === undefined)) {
    throw new TypeError(`Projection '${definition.name}': give either handlers or batch`);
  }
  return definition;
}

/** Held while one runner (or rebuild) owns a projection version; `lost` aborts if the hold is lost. */
export interface ProjectionLease<Tx> {
  readonly name: string;
  readonly version: number;
  readonly lost: AbortSignal;
  /**
   * `false` when a failed `commit` keeps the writes its work made before failing (a memory read
   * model updated in place); the runner then does not apply those events again. Default true.
   */
  readonly atomic?: boolean;
  /** Run `work` and move the checkpoint from `from` to `to` in one transaction; false if another moved it. */
  commit(from: Checkpoint | undefined, to: Checkpoint, work: (tx: Tx) => Promise<void>): Promise<boolean>;
  /**
   * Record `event` as parked (with why) and move the checkpoint from `from` to `to` past it, in one
   * transaction; false if another moved the checkpoint.
   */
  park(from: Checkpoint | undefined, to: Checkpoint, event: ParkedEvent): Promise<boolean>;
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
  /** Events a projection version gave up on (oldest first), with the reason. */
  parked(name: string, version: number): Promise<ParkedEvent[]>;
  /** Mark `version` as the one readers should query. */
  activate(name: string, version: number): Promise<void>;
  active(name: string): Promise<number | undefined>;
}

/** An event a projection's handler kept failing on, set aside so the projection could go on. */
export interface ParkedEvent {
  readonly name: string;
  readonly version: number;
  readonly eventId: string;
  readonly type: string;
  readonly streamId: string;
  readonly streamVersion: number;
  readonly checkpoint: Checkpoint;
  /** The last error's name and message. */
  readonly reason: string;
  readonly attempts: number;
  readonly parkedAt: Date;
}

/**
 * What to do with an event whose handler still fails after the retries: `'park'` records it (with
 * the reason) beside the checkpoint and goes on with the next event; `'stop'` halts the runner
 * (status `'failed'`, the checkpoint stays before the event, nothing is skipped).
 */
export type PoisonPolicy = 'park' | 'stop';

export interface ProjectionErrorInfo {
  /** The event whose handler failed; absent when reading the log or taking the lock failed. */
  readonly stored?: StoredEvent;
  /** 1-based attempt at that event. */
  readonly attempt?: number;
  /** What happens next: another attempt, the event parked, the runner stopped. */
  readonly next: 'retry' | 'park' | 'stop';
}

export interface RunProjectionOptions<Tx> {
  readonly store: EventStore;
  readonly projections: ProjectionStore<Tx>;
  /** Events applied per transaction. Default 500. */
  readonly batchSize?: number;
  /** Wait when caught up. Default 100 ms. */
  readonly pollIntervalMs?: number;
  /** Wait after the log or the lock could not be reached before trying again. Default 1 000 ms. */
  readonly retryDelayMs?: number;
  /**
   * Attempts at an event whose handler throws (core's retry options: `maxAttempts`, `backoff`,
   * `retryable`). Default: 5 attempts, backoff from 200 ms doubling to 30 s (equal jitter);
   * `NonRetryableError` and `SchemaValidationError` (an event that cannot be upcast or validated)
   * are not retried. `false`: no retry.
   */
  readonly retry?: RetryOptions | false;
  /** When the attempts are spent: `'park'` (default) or `'stop'`. */
  readonly onPoison?: PoisonPolicy;
  /** Told of every failure: a handler's (with the event and what comes next) or the log's. */
  readonly onError?: (error: unknown, info: ProjectionErrorInfo) => void;
}

export interface ProjectionLag extends Lag {
  /** Events parked by this projection version so far (they are not counted as lag). */
  readonly parked: number;
}

export interface ProjectionRunner {
  /**
   * `waiting` for the lock, `active`, `stopped`, or `failed`: halted on a poison event under
   * `onPoison: 'stop'` (see `error`).
   */
  readonly status: 'waiting' | 'active' | 'stopped' | 'failed';
  /** Events applied by this runner (parked ones not included). */
  readonly applied: number;
  /** Events this runner parked. */
  readonly parked: number;
  /** Why the runner halted (`ProjectionHaltedError`, with the event and the handler's error as cause). */
  readonly error: Error | undefined;
  /**
   * Resolves once the runner has applied (or parked) everything up to the head as of this call;
   * rejects if it halts first.
   */
  caughtUp(): Promise<void>;
  lag(): Promise<ProjectionLag>;
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

/** A handler (or the upcast before it) threw on the event at `index` of a batch. */
class HandlerFailure extends Error {
  readonly index: number;
  readonly stored: StoredEvent;
  readonly error: Error;
  constructor(index: number, stored: StoredEvent, error: Error) {
    super(error.message);
    this.index = index;
    this.stored = stored;
    this.error = error;
  }
}

const toError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

/** Apply events in one transaction with the checkpoint; a handler's error names its event. */
async function applyBatch<Tx>(
  definition: ProjectionDefinition<Tx>,
  store: EventStore,
  lease: ProjectionLease<Tx>,
  from: Checkpoint | undefined,
  batch: readonly StoredEvent[],
): Promise<boolean> {
  const to = batch[batch.length - 1]!.checkpoint;
  const context = { name: definition.name, version: definition.version };
  const admit = async (stored: StoredEvent, i: number): Promise<SwitchyardEvent> => {
    try {
      const admitted = store.schemas.admit(stored.event);
      return admitted instanceof Promise ? await admitted : admitted;
    } catch (error) {
      throw new HandlerFailure(i, stored, toError(error));
    }
  };
  const { handlers, batch: many } = definition;
  if (many !== undefined) {
    const types = new Set(many.types);
    return lease.commit(from, to, async (tx) => {
      const picked: StoredEvent[] = [];
      const at: number[] = [];
      for (let i = 0; i < batch.length; i++) {
        const stored = batch[i]!;
        if (!types.has(stored.event.type)) continue;
        const event = await admit(stored, i);
        picked.push(event === stored.event ? stored : { ...stored, event });
        at.push(i);
      }
      if (picked.length === 0) return;
      try {
        const result = many.handle(picked, { ...context, tx });
        if (result instanceof Promise) await result;
      } catch (error) {
        // One event: it is the one. More: which one is not known; -1 asks for one at a time.
        throw new HandlerFailure(picked.length === 1 ? at[0]! : -1, batch[at[0]!]!, toError(error));
      }
    });
  }
  return lease.commit(from, to, async (tx) => {
    for (let i = 0; i < batch.length; i++) {
      const stored = batch[i]!;
      const handler = handlers?.[stored.event.type];
      if (handler === undefined) continue;
      const event = await admit(stored, i);
      try {
        const result = handler(event, { ...context, tx, stored });
        if (result instanceof Promise) await result;
      } catch (error) {
        throw new HandlerFailure(i, stored, toError(error));
      }
    }
  });
}

const DEFAULT_RETRY: RetryOptions = {
  maxAttempts: 5,
  backoff: exponentialBackoff({ initialMs: 200, maxMs: 30_000, jitter: 'equal' }),
  retryable: (e) => !(e instanceof NonRetryableError || e instanceof SchemaValidationError),
};

interface Policy {
  readonly retry: RetryOptions | false;
  readonly onPoison: PoisonPolicy;
  readonly onError: (error: unknown, info: ProjectionErrorInfo) => void;
}

function policyOf(options: {
  retry?: RetryOptions | false;
  onPoison?: PoisonPolicy;
  onError?: (error: unknown, info: ProjectionErrorInfo) => void;
}): Policy {
  return {
    retry: options.retry === undefined ? DEFAULT_RETRY : options.retry,
    onPoison: options.onPoison ?? 'park',
    onError: options.onError ?? (() => {}),
  };
}

interface Applied {
  /** Where the checkpoint stands now. */
  readonly at: Checkpoint | undefined;
  readonly applied: number;
  readonly parked: number;
  /** Another runner moved the checkpoint: this one must let go. */
  readonly moved: boolean;
}

/**
 * Apply `batch` after `from`: in one transaction when every handler succeeds. When one throws, the
 * events before it commit on their own, then it is tried alone under the retry policy; once the
 * attempts are spent it is parked (recorded with the reason, checkpoint moved past it) or the
 * projection halts with `ProjectionHaltedError`. Never skips an event silently.
 */
async function applyWithPolicy<Tx>(
  definition: ProjectionDefinition<Tx>,
  store: EventStore,
  lease: ProjectionLease<Tx>,
  policy: Policy,
  signal: AbortSignal,
  from: Checkpoint | undefined,
  batch: readonly StoredEvent[],
): Promise<Applied> {
  let at = from;
  let rest = batch;
  let take = rest.length;
  let applied = 0;
  let parked = 0;
  const tries = new Map<StoredEvent, number>();
  let isolating = false; // a batch handler failed: one event at a time for the rest of this batch
  const done = (moved: boolean): Applied => ({ at, applied, parked, moved });
  while (rest.length > 0) {
    if (signal.aborted) return done(false);
    const chunk = take === rest.length ? rest : rest.slice(0, take);
    try {
      if (!(await applyBatch(definition, store, lease, at, chunk))) return done(true);
      applied += chunk.length;
      at = chunk[chunk.length - 1]!.checkpoint;
      rest = rest.slice(chunk.length);
      take = isolating ? 1 : rest.length;
    } catch (error) {
      if (!(error instanceof HandlerFailure)) throw error;
      if (error.index < 0) {
        isolating = true;
        take = 1;
        continue;
      }
      const attempt = (tries.get(error.stored) ?? 0) + 1;
      tries.set(error.stored, attempt);
      if (error.index > 0) {
        policy.onError(error.error, { stored: error.stored, attempt, next: 'retry' });
        if (lease.atomic === false) {
          // The events before it are applied already (in place): record that, do not apply again.
          const prefix = chunk.slice(0, error.index);
          const end = prefix[prefix.length - 1]!.checkpoint;
          if (!(await lease.commit(at, end, async () => {}))) return done(true);
          applied += prefix.length;
          at = end;
          rest = rest.slice(prefix.length);
          take = 1;
        } else take = error.index; // commit the events before it first, on their own
        continue;
      }
      take = 1;
      const decision = retryDecision(policy.retry, error.error, attempt);
      if (decision.kind !== 'giveUp') {
        policy.onError(error.error, { stored: error.stored, attempt, next: 'retry' });
        await sleep(decision.delayMs, signal);
        continue;
      }
      if (policy.onPoison === 'stop') {
        policy.onError(error.error, { stored: error.stored, attempt, next: 'stop' });
        throw new ProjectionHaltedError(definition, error.stored, attempt, error.error);
      }
      policy.onError(error.error, { stored: error.stored, attempt, next: 'park' });
      const stored = error.stored;
      const record: ParkedEvent = {
        name: definition.name,
        version: definition.version,
        eventId: stored.event.id,
        type: stored.event.type,
        streamId: stored.streamId,
        streamVersion: stored.version,
        checkpoint: stored.checkpoint,
        reason: `${error.error.name}: ${error.error.message}`,
        attempts: attempt,
        parkedAt: new Date(),
      };
      if (!(await lease.park(at, stored.checkpoint, record))) return done(true);
      parked += 1;
      at = stored.checkpoint;
      rest = rest.slice(1);
      take = isolating ? 1 : rest.length;
    }
  }
  return done(false);
}

/**
 * Keep a projection version up to date: one active runner per `name@version` across processes
 * (the others wait for the lock); each batch's handler writes and its checkpoint commit together.
 * A failing handler is retried, then its event parked or the runner halted (`onPoison`).
 */
export function runProjection<Tx>(
  definition: ProjectionDefinition<Tx>,
  options: RunProjectionOptions<Tx>,
): ProjectionRunner {
  const { store, projections } = options;
  // Before, batchSize 0 read nothing and polled on for ever, and a NaN or Infinity wait polled
  // every millisecond (a timer runs those after 1 ms).
  const batchSize = wholeNumber('batchSize', options.batchSize ?? 500);
  const pollMs = timerMs('pollIntervalMs', options.pollIntervalMs ?? 100, 0);
  const retryMs = timerMs('retryDelayMs', options.retryDelayMs ?? 1_000, 0);
  const policy = policyOf(options);
  const stopping = new AbortController();
  let status: ProjectionRunner['status'] = 'waiting';
  let applied = 0;
  let parked = 0;
  let failure: Error | undefined;
  let position: Checkpoint | undefined;
  const waiters: { target: Checkpoint; resolve: () => void; reject: (error: Error) => void }[] = [];
  const notify = () => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i]!;
      if (position !== undefined && compareCheckpoints(position, w.target) >= 0) {
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
      let result: Applied;
      try {
        const batch = await store.log.readAll(from ?? START, batchSize);
        if (batch.length === 0) {
          await sleep(pollMs, signal);
          continue;
        }
        if (signal.aborted) break;
        result = await applyWithPolicy(definition, store, lease, policy, signal, from, batch);
      } catch (error) {
        if (error instanceof ProjectionHaltedError) throw error;
        if (signal.aborted) break;
        policy.onError(error, { next: 'retry' });
        await sleep(retryMs, signal);
        // Part of the batch may have committed before the failure: go on from what is stored.
        from = await projections.checkpoint(definition.name, definition.version);
        position = from ?? START;
        continue;
      }
      applied += result.applied;
      parked += result.parked;
      from = result.at;
      position = from ?? START;
      notify();
      if (result.moved) return; // someone else moved it
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
        policy.onError(error, { next: 'retry' });
        await sleep(retryMs, stopping.signal);
        continue;
      }
      if (lease === undefined) break;
      status = 'active';
      try {
        await runLease(lease);
      } catch (error) {
        if (error instanceof ProjectionHaltedError) {
          failure = error;
          break;
        }
        policy.onError(error, { next: 'retry' });
      } finally {
        await lease.release().catch(() => {});
      }
    }
    status = failure ? 'failed' : 'stopped';
    for (const w of waiters.splice(0)) {
      if (failure) w.reject(failure);
      else w.resolve();
    }
  })();

  return {
    get status() {
      return status;
    },
    get applied() {
      return applied;
    },
    get parked() {
      return parked;
    },
    get error() {
      return failure;
    },
    async caughtUp() {
      if (failure) throw failure;
      const target = await store.log.head();
      if (position !== undefined && compareCheckpoints(position, target) >= 0) return;
      await new Promise<void>((resolve, reject) => waiters.push({ target, resolve, reject }));
    },
    lag: async () => {
      const [lag, set] = await Promise.all([
        lagFrom(store.log, await projections.checkpoint(definition.name, definition.version)),
        projections.parked(definition.name, definition.version),
      ]);
      return { ...lag, parked: set.length };
    },
    async stop() {
      stopping.abort();
      await done;
      for (const w of waiters.splice(0)) w.resolve();
    },
  };
}

export interface RebuildResult {
  readonly events: number;
  /** Events parked during the rebuild (`onPoison: 'park'`). */
  readonly parked: number;
  readonly ms: number;
}

export type RebuildOptions<Tx> = Omit<RunProjectionOptions<Tx>, 'pollIntervalMs' | 'retryDelayMs'>;

/**
 * Build `definition.version` from the start beside the live version, then make it the active one.
 * Holds that version's lock throughout: a runner of the same version waits, and a rebuild of a
 * version a runner holds is refused with `ProjectionBusyError`. A poison event is retried, then
 * parked, or (`onPoison: 'stop'`) the rebuild rejects with `ProjectionHaltedError` and the version
 * is not activated.
 */
export async function rebuildProjection<Tx>(
  definition: ProjectionDefinition<Tx>,
  options: RebuildOptions<Tx>,
): Promise<RebuildResult> {
  const { store, projections } = options;
  const batchSize = options.batchSize ?? 500;
  const policy = policyOf(options);
  const lease = await projections.acquire(definition.name, definition.version, { wait: false });
  if (lease === undefined) {
    throw new ProjectionBusyError(
      `Projection '${definition.name}' version ${definition.version} is held by another runner or rebuild`,
    );
  }
  const started = performance.now();
  let events = 0;
  let parked = 0;
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
      const result = await applyWithPolicy(definition, store, lease, policy, lease.lost, from, batch);
      if (result.moved) {
        throw new ProjectionBusyError(`Projection '${definition.name}': checkpoint moved under the rebuild`);
      }
      events += result.applied;
      parked += result.parked;
      from = result.at;
    }
    await projections.activate(definition.name, definition.version);
  } finally {
    await lease.release();
  }
  return { events, parked, ms: performance.now() - started };
}
