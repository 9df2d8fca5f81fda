import type { ChildProcess } from 'node:child_process';

export type StoreClaimResult = 'claimed' | 'done' | 'busy';

/** The idempotency store contract v2, structurally (core's IdempotencyStore once it has tokens). */
export interface StoreUnderTest {
  claim(key: string, token: string, leaseMs: number): Promise<StoreClaimResult>;
  claimMany?(
    claims: readonly { readonly key: string; readonly token: string }[],
    leaseMs: number,
  ): Promise<StoreClaimResult[]>;
  renew(key: string, token: string, leaseMs: number): Promise<boolean>;
  complete(key: string, token: string, ttlMs: number): Promise<boolean>;
  completeMany?(
    entries: readonly { readonly key: string; readonly token: string }[],
    ttlMs: number,
  ): Promise<boolean[]>;
  release(key: string, token: string): Promise<void>;
}

/** What a store package's test hands to `runStoreConformance`. */
export interface StoreTarget {
  /** Matrix column: memory, pg, redis. */
  readonly name: string;
  /**
   * A store on the shared state of this run (same table / key prefix): two calls are two group
   * members. `separateConnection` asks for one on its own connection (another process's view).
   */
  store(options?: { separateConnection?: boolean }): Promise<StoreUnderTest>;
  /**
   * Start a child process that builds the same store, claims `key` as `token` for `leaseMs`,
   * prints `claimed` and then waits to be killed (the crashed handler). Omit when the store's
   * state lives in one process (memory): the case is n/a with that reason.
   */
  spawnClaimer?(key: string, token: string, leaseMs: number): ChildProcess;
  /** Why the crash case does not apply, when spawnClaimer is absent. */
  readonly crashNotApplicable?: string;
  /**
   * A private server of the store's kind for the restart case (never the shared one): a store on
   * it and a restart. Omit with `restartNotApplicable` saying why.
   */
  privateServer?(): Promise<{
    store(): Promise<StoreUnderTest>;
    restart(): Promise<void>;
    stop(): Promise<void>;
  }>;
  readonly restartNotApplicable?: string;
}
