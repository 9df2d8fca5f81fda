import type { ClaimEntry, ClaimResult, IdempotencyStore, SyncIdempotencyStore } from './store.ts';

export interface MemoryIdempotencyStoreOptions {
  /** How long a handled id is remembered. Default: 24 h. */
  readonly ttlMs?: number;
  /** Most ids kept; the oldest are forgotten first. Default: 100 000. */
  readonly maxEntries?: number;
}

/** memoryIdempotencyStore(): every optional part of the contract, and how many ids it holds. */
export interface MemoryIdempotencyStore extends IdempotencyStore {
  /** Entries held (claims and done marks, expired ones until they are overwritten or evicted). */
  readonly size: number;
  readonly ttlMs: number;
  readonly sync: SyncIdempotencyStore;
  claimMany(claims: readonly ClaimEntry[], leaseMs: number): Promise<ClaimResult[]>;
  completeMany(entries: readonly ClaimEntry[], ttlMs: number): Promise<boolean[]>;
}

interface Entry {
  state: 'pending' | 'done';
  expiresAt: number;
  /** The owner: the token of the attempt that claimed (and, once done, completed) the key. */
  token: string;
}

/**
 * One process's memory: enough for tests, demos and a single-member group. Implements the whole
 * contract, fencing included, and answers synchronously too (`sync`), so handle() over it costs no
 * promise per call.
 */
export function memoryIdempotencyStore(options: MemoryIdempotencyStoreOptions = {}): MemoryIdempotencyStore {
  const ttlMs = options.ttlMs ?? 86_400_000;
  const maxEntries = options.maxEntries ?? 100_000;
  // A Map iterates in insertion order, so re-inserting on write keeps the oldest first for eviction.
  const entries = new Map<string, Entry>();

  // The oldest entry, for eviction. A Map iterator is live: it walks past what was deleted and
  // reaches what is added later, and everything behind it was evicted, so each eviction costs O(1)
  // (a fresh keys().next() would step over every deleted slot since the table's last rehash).
  let oldest = entries.keys();
  /** The key written last: rewriting it needs no delete, it is the newest already. */
  let newest: string | undefined;

  const put = (key: string, entry: Entry, present: boolean) => {
    if (present && key !== newest) entries.delete(key);
    entries.set(key, entry);
    newest = key;
    while (entries.size > maxEntries) {
      let next = oldest.next();
      if (next.done) {
        oldest = entries.keys();
        next = oldest.next();
      }
      entries.delete(next.value as string);
    }
  };

  /** Whether `token` may write over `entry`: its own, or one that expired (nobody took the key since). */
  const owns = (entry: Entry | undefined, token: string, now: number) =>
    entry === undefined || entry.token === token || entry.expiresAt <= now;

  const sync: SyncIdempotencyStore = {
    claim(key, token, leaseMs) {
      const now = Date.now();
      const entry = entries.get(key);
      if (entry !== undefined && entry.expiresAt > now) return entry.state === 'done' ? 'done' : 'busy';
      put(key, { state: 'pending', expiresAt: now + leaseMs, token }, entry !== undefined);
      return 'claimed';
    },
    renew(key, token, leaseMs) {
      const now = Date.now();
      const entry = entries.get(key);
      if (!owns(entry, token, now) || (entry?.state === 'done' && entry.expiresAt > now)) return false;
      put(key, { state: 'pending', expiresAt: now + leaseMs, token }, entry !== undefined);
      return true;
    },
    complete(key, token, ttl) {
      const now = Date.now();
      const entry = entries.get(key);
      if (!owns(entry, token, now)) return false;
      put(key, { state: 'done', expiresAt: now + (ttl ?? ttlMs), token }, entry !== undefined);
      return true;
    },
    release(key, token) {
      const entry = entries.get(key);
      if (entry?.state === 'pending' && entry.token === token) {
        entries.delete(key);
        if (key === newest) newest = undefined;
      }
    },
  };

  return {
    ttlMs,
    get size() {
      return entries.size;
    },
    // The state is right here: handle() calls these directly, without a promise per call.
    sync,
    async claim(key, token, leaseMs) {
      return sync.claim(key, token, leaseMs);
    },
    async claimMany(claims, leaseMs) {
      return claims.map((c) => sync.claim(c.key, c.token, leaseMs));
    },
    async renew(key, token, leaseMs) {
      return sync.renew(key, token, leaseMs);
    },
    async complete(key, token, ttl) {
      return sync.complete(key, token, ttl);
    },
    async completeMany(completions, ttl) {
      return completions.map((c) => sync.complete(c.key, c.token, ttl));
    },
    async release(key, token) {
      sync.release(key, token);
    },
  };
}
