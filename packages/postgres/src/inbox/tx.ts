import { SwitchyardError } from '@switchyard/core';
import type { SqlClient } from '../sql.ts';

/** ctx.tx was asked for outside a transactional handler (no `transactional: true` with pgInbox). */
export class NoTransactionError extends SwitchyardError {
  override name = 'NoTransactionError';
}

/**
 * The handler's PostgreSQL transaction, typed: `pgTx(ctx).query(…)` inside
 * `handle(h, { idempotency: { store: pgInbox(pool), transactional: true } })`. Its writes commit
 * together with the inbox mark (and ctx.publish's outbox rows), or not at all.
 */
export function pgTx(ctx: { readonly tx?: unknown }): SqlClient {
  const tx = ctx.tx as SqlClient | undefined;
  if (!tx || typeof tx.query !== 'function') {
    throw new NoTransactionError(
      'ctx.tx is only set in a transactional handler: handle(h, { idempotency: { store: pgInbox(pool), transactional: true } })',
    );
  }
  return tx;
}
