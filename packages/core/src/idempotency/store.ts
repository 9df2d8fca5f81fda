import type { SwitchyardEvent } from '../event.ts';

/** What a claim found. `claimed`: go ahead. `done`: handled before, skip. `busy`: another owner holds a live claim. */
export type ClaimResult = 'claimed' | 'done' | 'busy';

/** One claim of a batch: the key and the owner token of the attempt that wants it. */
export interface ClaimEntry {
  readonly key: string;
  readonly token: string;
}

/**
 * Remembers which events a group has handled (contract v2).
 *
 * Fencing: handle() makes a fresh `token` per attempt. Only the owner of a claim can renew, complete
 * or release it, so a member whose lease expired and whose key another member claimed since cannot
 * overwrite the new claim. A token's claim is lost only when another owner took the key: a claim
 * that expired and that nobody took since is still its owner's to renew or complete (nothing else
 * ran the event in between).
 *
 * Suggested mappings, one round trip each:
 * - Redis: claim = `SET k p:<token> NX PX leaseMs` (else GET tells done/busy); renew, complete and
 *   release = a Lua script comparing the stored token first.
 * - PostgreSQL: claim = `INSERT … ON CONFLICT (key) DO UPDATE … WHERE expired RETURNING`; renew and
 *   complete = `UPDATE … WHERE key = $1 AND (token = $2 OR expired)`; release = `DELETE … AND token = $2`.
 *   `claimMany` = `INSERT … SELECT unnest($1::text[]), unnest($2::text[]) ON CONFLICT … RETURNING`.
 */
export interface IdempotencyStore {
  /**
   * Take `key` for `leaseMs` as owner `token`. `claimed`: go ahead. `done`: handled before.
   * `busy`: another owner holds a live claim; try again later.
   */
  claim(key: string, token: string, leaseMs: number): Promise<ClaimResult>;
  /**
   * Optional: many claims in ONE round trip (the deliveries of a prefetch window arriving together).
   * Answers in the order given. handle() gathers the claims made in one tick into one call.
   */
  claimMany?(claims: readonly ClaimEntry[], leaseMs: number): Promise<ClaimResult[]>;
  /**
   * Extend `token`'s claim to `leaseMs` from now. false when another owner took the key or it is
   * done; then nothing was written. handle() renews every leaseMs / 2 while a handler runs.
   */
  renew(key: string, token: string, leaseMs: number): Promise<boolean>;
  /**
   * Mark `key` done for `ttlMs` if `token` still owns its claim. false (nothing written) when fenced
   * out: another owner took the key since. handle() then does not report the event as acked.
   */
  complete(key: string, token: string, ttlMs: number): Promise<boolean>;
  /** Optional: many completions in one round trip. Answers in the order given. */
  completeMany?(entries: readonly ClaimEntry[], ttlMs: number): Promise<boolean[]>;
  /** Drop `token`'s claim after a failure so a redelivery runs at once; a no-op if not the owner. */
  release(key: string, token: string): Promise<void>;
  /**
   * Optional: the same calls answered synchronously, for a store whose state is in this process
   * (memoryIdempotencyStore). handle() then uses these and waits for no promise per call.
   */
  readonly sync?: SyncIdempotencyStore | undefined;
  /** Optional: how long a done mark is kept when IdempotencyOptions.ttlMs does not say. */
  readonly ttlMs?: number | undefined;
}

/** IdempotencyStore's calls, answered at once. */
export interface SyncIdempotencyStore {
  claim(key: string, token: string, leaseMs: number): ClaimResult;
  renew(key: string, token: string, leaseMs: number): boolean;
  complete(key: string, token: string, ttlMs: number): boolean;
  release(key: string, token: string): void;
}

/** What a transactional attempt came to: the work's value, committed with the done mark, or a duplicate. */
export type TransactionResult<R> =
  | { readonly status: 'done'; readonly value: R }
  | { readonly status: 'duplicate' };

/**
 * A store whose marks live in a database the handler writes to. With
 * `idempotency: { store, transactional: true }` handle() runs each attempt as
 *   BEGIN; claim `key` (waits for a concurrent claimer's uncommitted claim; done → duplicate);
 *   handler(event, ctx) with ctx.tx = the transaction; mark done for `ttlMs`; COMMIT
 * so the handler's writes and the mark commit together: an exactly-once effect for work done in
 * that database. A throw, an abort of `options.signal` (timeout) or a lost connection rolls all of
 * it back and rejects.
 */
export interface TransactionalIdempotencyStore<Tx = unknown> extends IdempotencyStore {
  transaction<R>(
    key: string,
    ttlMs: number,
    work: (tx: Tx) => R | PromiseLike<R>,
    options?: { readonly signal?: AbortSignal | undefined },
  ): Promise<TransactionResult<R>>;
  /**
   * Optional: where ctx.publish writes inside the transaction (an outbox), so a follow-up is sent
   * if and only if the attempt commits. The event arrives fully built (id, time, correlation,
   * causation, schema checked). Without it ctx.publish goes to the bus at once, as outside this mode.
   */
  publishInTransaction?(tx: Tx, topic: string, event: SwitchyardEvent): Promise<void>;
}

/** Whether `store` can run an attempt in a transaction (TransactionalIdempotencyStore). */
export function isTransactional(store: IdempotencyStore): store is TransactionalIdempotencyStore {
  return typeof (store as Partial<TransactionalIdempotencyStore>).transaction === 'function';
}
