// The store contract lives in @switchyard/core; re-exported so a user needs only this package.
export type { ClaimEntry, ClaimResult, IdempotencyStore } from '@switchyard/core';
