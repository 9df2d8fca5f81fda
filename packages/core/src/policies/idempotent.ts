import { LeaseLostError } from '../errors.ts';
import type {
  ClaimResult,
  IdempotencyStore,
  SyncIdempotencyStore,
  TransactionalIdempotencyStore,
} from '../idempotency/store.ts';
import { ownerToken } from '../idempotency/token.ts';
import { andThen, isPromiseLike, type MaybePromise } from '../promise.ts';
import { type Deadline, deadline, hasTimeout } from './deadlines.ts';

export interface IdempotencyOptions {
  /** Where claims and done marks live: memoryIdempotencyStore(), or a durable one (@switchyard/postgres, /redis). */
  readonly store: IdempotencyStore;
  /** How long a handled id is remembered. Default: the store's own `ttlMs`, else 24 h. */
  readonly ttlMs?: number;
  /**
   * How long a claim lasts if this process dies mid-handler, or a handler runs on past its timeout
   * without stopping (a retry of the event waits for it until then). While a handler runs, handle()
   * renews the claim every leaseMs / 2; a renewal the store refuses (another member took the key)
   * or that fails aborts `ctx.signal` with LeaseLostError and the attempt is given back, never
   * acked. Default: 2 × timeoutMs, at least 60 s. Not used with `transactional`.
   */
  readonly leaseMs?: number;
  /**
   * Run each attempt inside the store's transaction (the store must be a
   * TransactionalIdempotencyStore, e.g. @switchyard/postgres's `pgInbox`; another store makes
   * handle() throw UnsupportedOptionError). The claim, the handler's writes through `ctx.tx` and
   * the done mark commit together or not at all; `ctx.publish` goes through the store's
   * `publishInTransaction` when it has one. A timeout or a throw rolls the attempt back. No lease:
   * the open transaction holds the claim. Default: false.
   */
  readonly transactional?: boolean;
}

/**
 * What an idempotent step came to. `done`: the work ran and its id is recorded. `duplicate`: done
 * before, not run. `busy`: another owner holds a live claim, not run. `lost`: the work ran (or runs
 * on) but the claim was lost on the way (renewal refused or failed, completion fenced out): it
 * must not count as done.
 */
export type IdempotentResult<R> =
  | { readonly status: 'done'; readonly value: R }
  | { readonly status: 'duplicate' }
  | { readonly status: 'busy' }
  | { readonly status: 'lost'; readonly error: LeaseLostError };

/** The store's calls as the step makes them: a synchronous store answers at once, others with a promise. */
export type StoreCalls =
  | Pick<IdempotencyStore, 'claim' | 'renew' | 'complete' | 'release'>
  | SyncIdempotencyStore;

const DUPLICATE = Object.freeze({ status: 'duplicate' as const });
const BUSY = Object.freeze({ status: 'busy' as const });
const NOT_RENEWING: { stop(): void } = Object.freeze({ stop() {} });

/** The claim one attempt holds, as the work sees it. */
export class Lease {
  readonly key: string;
  readonly token: string;
  #held: PromiseLike<unknown> | undefined = undefined;
  #onLost: ((error: LeaseLostError, target: never) => void) | undefined = undefined;
  #target: unknown = undefined;

  constructor(key: string, token: string) {
    this.key = key;
    this.token = token;
  }

  /**
   * The attempt stops waiting for `pending` (it timed out) while the work runs on: keep the claim
   * until `pending` settles, so a retry finds the key busy rather than running beside it.
   */
  holdUntil(pending: PromiseLike<unknown>): void {
    this.#held = pending;
  }

  /** Call `listener(error, target)` (abort the work's signal) if the claim is lost while the work runs. */
  onLost<X>(listener: (error: LeaseLostError, target: X) => void, target: X): void {
    this.#onLost = listener;
    this.#target = target;
  }

  static held(lease: Lease): PromiseLike<unknown> | undefined {
    return lease.#held;
  }

  static lose(lease: Lease, error: LeaseLostError): void {
    const listener = lease.#onLost;
    lease.#onLost = undefined;
    listener?.(error, lease.#target as never);
  }
}

/**
 * The idempotency step, as handle() composes it: claim `key` for a fresh owner token, run `work`,
 * then mark the key done (or drop the claim when the work failed, so a redelivery runs it).
 * Answers synchronously when the store and the work do: a synchronous store with a synchronous
 * handler costs no promise and no timer. While asynchronous work runs, the claim is renewed every
 * `leaseMs / 2` (deadlines shared per length, see deadlines.ts).
 *
 * Throws (or rejects with) what failed: the claim, or the work after its claim was dropped (a
 * failing drop is then the failure). A failing completion does not fail the step: the work is
 * done, an unrecorded id only weakens de-duplication of a later copy; its claim is dropped so that
 * copy need not wait out the lease.
 */
export function idempotentStep<A, R>(
  calls: StoreCalls,
  key: string,
  leaseMs: number,
  ttlMs: number,
  work: (lease: Lease, arg: A) => R | PromiseLike<R>,
  arg: A,
): MaybePromise<IdempotentResult<R>> {
  const token = ownerToken();
  const claiming = calls.claim(key, token, leaseMs);
  if (!isPromiseLike<ClaimResult>(claiming))
    return claimed(calls, key, token, claiming, leaseMs, ttlMs, work, arg);
  return claiming.then((answer) => claimed(calls, key, token, answer, leaseMs, ttlMs, work, arg));
}

function claimed<A, R>(
  calls: StoreCalls,
  key: string,
  token: string,
  answer: ClaimResult,
  leaseMs: number,
  ttlMs: number,
  work: (lease: Lease, arg: A) => R | PromiseLike<R>,
  arg: A,
): MaybePromise<IdempotentResult<R>> {
  if (answer === 'done') return DUPLICATE;
  if (answer === 'busy') return BUSY;
  const lease = new Lease(key, token);
  let returned: R | PromiseLike<R>;
  try {
    returned = work(lease, arg);
  } catch (error) {
    return failed(calls, lease, error);
  }
  if (!isPromiseLike<R>(returned)) return finish(calls, lease, ttlMs, returned);
  // Renewals count from here, a claim's round trip after the lease began: half a lease is the margin.
  const claimedAt = performance.now();
  const pending = returned;
  return new Promise<IdempotentResult<R>>((resolve, reject) => {
    let over = false;
    const next = (step: () => MaybePromise<IdempotentResult<R>>) => {
      try {
        resolve(step());
      } catch (error) {
        reject(error);
      }
    };
    const renewal = renew(calls, lease, leaseMs, claimedAt, (error) => {
      if (over) return;
      over = true;
      Lease.lose(lease, error);
      // The work runs on. If the claim is still ours after all (the renewal failed rather than
      // being refused), drop it once the work stops; the token makes that harmless otherwise.
      const release = () => quietly(calls, lease);
      pending.then(release, release);
      resolve({ status: 'lost', error });
    });
    pending.then(
      (value) => {
        if (over) return;
        over = true;
        renewal.stop();
        next(() => finish(calls, lease, ttlMs, value));
      },
      (error: unknown) => {
        if (over) return;
        over = true;
        renewal.stop();
        next(() => failed(calls, lease, error));
      },
    );
  });
}

/** Renew `lease` every leaseMs / 2 from `from` until stopped; `onLost` when refused or failing. */
function renew(
  calls: StoreCalls,
  lease: Lease,
  leaseMs: number,
  from: number,
  onLost: (error: LeaseLostError) => void,
): { stop(): void } {
  const every = leaseMs / 2;
  if (!hasTimeout(every)) return NOT_RENEWING;
  let stopped = false;
  let timer: Deadline | undefined;
  const due = () => {
    timer = undefined;
    if (stopped) return;
    const askedAt = performance.now();
    let answer: boolean | Promise<boolean>;
    try {
      answer = calls.renew(lease.key, lease.token, leaseMs);
    } catch (error) {
      onLost(new LeaseLostError(lease.key, error));
      return;
    }
    const answered = (kept: boolean) => {
      if (stopped) return;
      if (kept) timer = deadline(every, due, askedAt);
      else onLost(new LeaseLostError(lease.key));
    };
    if (isPromiseLike<boolean>(answer))
      answer.then(answered, (error: unknown) => {
        if (!stopped) onLost(new LeaseLostError(lease.key, error));
      });
    else answered(answer);
  };
  timer = deadline(every, due, from);
  return {
    stop() {
      stopped = true;
      timer?.cancel();
    },
  };
}

/** The work succeeded: mark it done, unless the claim was taken from us meanwhile. */
function finish<R>(
  calls: StoreCalls,
  lease: Lease,
  ttlMs: number,
  value: R,
): MaybePromise<IdempotentResult<R>> {
  let recorded: boolean | Promise<boolean>;
  try {
    recorded = calls.complete(lease.key, lease.token, ttlMs);
  } catch {
    return unrecorded(calls, lease, value);
  }
  if (!isPromiseLike<boolean>(recorded)) return recorded ? done(value) : lost(lease);
  return recorded.then(
    (ok) => (ok ? { status: 'done' as const, value } : lost(lease)),
    () => unrecorded(calls, lease, value),
  );
}

/** A handler's result is mostly undefined: that answer is made once, not per event. */
const DONE_UNDEFINED = Object.freeze({ status: 'done' as const, value: undefined });

function done<R>(value: R): IdempotentResult<R> {
  return value === undefined ? (DONE_UNDEFINED as IdempotentResult<R>) : { status: 'done', value };
}

function lost(lease: Lease): IdempotentResult<never> {
  const error = new LeaseLostError(lease.key);
  Lease.lose(lease, error);
  return { status: 'lost', error };
}

/** The completion failed: drop the claim (waiting for it, ignoring its failure), the work counts. */
function unrecorded<R>(calls: StoreCalls, lease: Lease, value: R): MaybePromise<IdempotentResult<R>> {
  const done = { status: 'done' as const, value };
  let released: void | Promise<void>;
  try {
    released = calls.release(lease.key, lease.token);
  } catch {
    return done;
  }
  return isPromiseLike<void>(released)
    ? released.then(
        () => done,
        () => done,
      )
    : done;
}

/** The work failed: drop the claim so a retry may run it, then fail with the work's error. */
function failed(calls: StoreCalls, lease: Lease, error: unknown): MaybePromise<never> {
  const held = Lease.held(lease);
  if (held !== undefined) {
    // Timed out and running on: the claim goes when the work stops, the failure is now.
    const release = () => quietly(calls, lease);
    held.then(release, release);
    throw error;
  }
  // A drop that fails is what the step fails with.
  return andThen(calls.release(lease.key, lease.token), () => {
    throw error;
  });
}

function quietly(calls: StoreCalls, lease: Lease): void {
  try {
    const released = calls.release(lease.key, lease.token);
    if (isPromiseLike<void>(released)) released.then(undefined, () => {});
  } catch {
    // Nothing to do: the claim expires after its lease.
  }
}

/**
 * The transactional step (IdempotencyOptions.transactional): the store opens a transaction, claims
 * `key` in it, runs `work(tx)` and commits the done mark with the work's writes. Rejects (rolled
 * back) when the work fails or `signal` aborts.
 */
export function transactionalStep<R, Tx>(
  store: TransactionalIdempotencyStore<Tx>,
  key: string,
  ttlMs: number,
  work: (tx: Tx) => R | PromiseLike<R>,
  signal: AbortSignal,
): Promise<IdempotentResult<R>> {
  return store
    .transaction(key, ttlMs, work, { signal })
    .then((result) => (result.status === 'duplicate' ? DUPLICATE : result));
}

/**
 * Run `work` at most once per key: `duplicate` if done before, `busy` if another member holds it;
 * rejects with LeaseLostError when the claim was lost while it ran (then `signal` aborted too).
 * The promise form of the step handle() composes (idempotentStep); `leaseMs` is renewed at half.
 */
export async function idempotent<R>(
  options: IdempotencyOptions,
  key: string,
  leaseMs: number,
  work: (signal: AbortSignal) => R | PromiseLike<R>,
): Promise<{ status: 'done'; value: R } | { status: 'duplicate' | 'busy' }> {
  const controller = new AbortController();
  const result = await idempotentStep(
    options.store.sync ?? options.store,
    key,
    leaseMs,
    completionTtl(options),
    (lease, signal) => {
      lease.onLost((error) => controller.abort(error), undefined);
      return work(signal);
    },
    controller.signal,
  );
  if (result.status === 'lost') throw result.error;
  return result;
}

/** How long a completion is remembered: the option, else the store's own `ttlMs`, else 24 h. */
export function completionTtl(options: IdempotencyOptions): number {
  return options.ttlMs ?? options.store.ttlMs ?? 86_400_000;
}
