// The idempotency store contract v2 (see @switchyard/core once it exports it): declared here
// structurally so this package compiles on its own; TypeScript's structural typing makes these the
// same types as core's. Replace with `import type { … } from '@switchyard/core'` when core has them.
import type { SwitchyardEvent } from '@switchyard/core';

export type ClaimResult = 'claimed' | 'done' | 'busy';

export interface IdempotencyStoreV2 {
  claim(key: string, token: string, leaseMs: number): Promise<ClaimResult>;
  claimMany?(
    claims: readonly { readonly key: string; readonly token: string }[],
    leaseMs: number,
  ): Promise<ClaimResult[]>;
  renew(key: string, token: string, leaseMs: number): Promise<boolean>;
  complete(key: string, token: string, ttlMs: number): Promise<boolean>;
  completeMany?(
    entries: readonly { readonly key: string; readonly token: string }[],
    ttlMs: number,
  ): Promise<boolean[]>;
  release(key: string, token: string): Promise<void>;
  readonly ttlMs?: number;
}

export interface TransactionalStoreV2<Tx = unknown> extends IdempotencyStoreV2 {
  transaction<R>(
    key: string,
    ttlMs: number,
    work: (tx: Tx) => R | PromiseLike<R>,
    options?: { readonly signal?: AbortSignal },
  ): Promise<{ readonly status: 'done'; readonly value: R } | { readonly status: 'duplicate' }>;
  publishInTransaction?(tx: Tx, topic: string, event: SwitchyardEvent): Promise<void>;
}
