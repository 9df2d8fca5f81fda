// The idempotency store contract v2 (see @switchyard/core once it exports it): declared here
// structurally so this package compiles on its own; TypeScript's structural typing makes these the
// same types as core's. Replace with `import type { … } from '@switchyard/core'` when core has them.

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
