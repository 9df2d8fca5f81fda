/**
 * Remembers which events a group has handled. Three calls, each one round trip:
 * - Redis: claim = `SET k pending NX PX leaseMs` (else GET tells done/busy); complete = `SET k done PX ttlMs`; release = `DEL k`.
 * - PostgreSQL: claim = `INSERT .. ON CONFLICT DO UPDATE .. WHERE expired RETURNING`; complete = `UPDATE`; release = `DELETE`.
 */
export interface IdempotencyStore {
  /**
   * Try to take `key` for `leaseMs`. `claimed`: go ahead. `done`: handled before, skip.
   * `busy`: another member holds a live claim; try again later.
   */
  claim(key: string, leaseMs: number): Promise<ClaimResult>;
  /** Mark `key` handled for `ttlMs`. */
  complete(key: string, ttlMs: number): Promise<void>;
  /** Drop a claim after a failure so the redelivery is processed. */
  release(key: string): Promise<void>;
  /**
   * Optional: the same three calls answered synchronously, for a store whose state is in this
   * process (memoryIdempotencyStore). handle() then uses these and waits for no promise per call.
   */
  readonly sync?: SyncIdempotencyStore | undefined;
}

export type ClaimResult = 'claimed' | 'done' | 'busy';

/** IdempotencyStore's calls, answered at once. */
export interface SyncIdempotencyStore {
  claim(key: string, leaseMs: number): ClaimResult;
  complete(key: string, ttlMs: number): void;
  release(key: string): void;
}
