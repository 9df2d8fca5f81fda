import { LeaseLostError } from '../errors.ts';
import type { IdempotencyStore } from '../idempotency/store.ts';
import { ownerToken } from '../idempotency/token.ts';

export interface IdempotencyOptions {
  readonly store: IdempotencyStore;
  /** How long a handled id is remembered. Default: the store's own `ttlMs`, else 24 h. */
  readonly ttlMs?: number;
  /**
   * How long a claim lasts if this process dies mid-handler, or a handler runs on past its timeout
   * without stopping (a retry of the event waits for it until then). Default: 2 × timeoutMs, at
   * least 60 s.
   */
  readonly leaseMs?: number;
}

/**
 * Run `work` at most once per key: `duplicate` if done before, `busy` if another member holds it.
 * handle() runs the same steps without a promise per step when the store answers synchronously.
 */
export async function idempotent<R>(
  options: IdempotencyOptions,
  key: string,
  leaseMs: number,
  work: () => R | PromiseLike<R>,
): Promise<{ status: 'done'; value: R } | { status: 'duplicate' | 'busy' }> {
  const token = ownerToken();
  const claim = await options.store.claim(key, token, leaseMs);
  if (claim === 'done') return { status: 'duplicate' };
  if (claim === 'busy') return { status: 'busy' };
  let value: R;
  try {
    value = await work();
  } catch (error) {
    await options.store.release(key, token);
    throw error;
  }
  const ttl = completionTtl(options);
  let recorded: boolean;
  try {
    recorded = await options.store.complete(key, token, ttl);
  } catch {
    // The work is done and must be acked; an unrecorded id only weakens de-duplication of a later
    // copy. Dropping the claim keeps that copy from waiting out the lease.
    await options.store.release(key, token).catch(() => {});
    recorded = true;
  }
  if (!recorded) throw new LeaseLostError(key);
  return { status: 'done', value };
}

/** How long a completion is remembered: the option, else the store's own `ttlMs`, else 24 h. */
export function completionTtl(options: IdempotencyOptions): number {
  return options.ttlMs ?? (options.store as { ttlMs?: number }).ttlMs ?? 86_400_000;
}
