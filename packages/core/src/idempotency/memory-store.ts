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

/** One key's claim or done mark, linked into the store's list of entries in write order. */
interface Entry {
  readonly key: string;
  state: 'pending' | 'done';
  /** In the store's clock (see `clock`). */
  expiresAt: number;
  /** The owner: the token of the attempt that claimed (and, once done, completed) the key. */
  token: string;
  older: Entry | undefined;
  newer: Entry | undefined;
}

/**
 * One process's memory: enough for tests, demos and a single-member group. Implements the whole
 * contract, fencing included, and answers synchronously too (`sync`), so handle() over it costs no
 * promise per call.
 */
export function memoryIdempotencyStore(options: MemoryIdempotencyStoreOptions = {}): MemoryIdempotencyStore {
  const ttlMs = options.ttlMs ?? 86_400_000;
  const maxEntries = options.maxEntries ?? 100_000;
  const entries = new Map<string, Entry>();
  // Times are kept as milliseconds since the store was made: a small integer V8 stores in the
  // entry itself, where an epoch time is a heap number of its own for each of (say) 200 000 ids.
  const base = Date.now();
  const clock = () => Date.now() - base;
  // Write order, for eviction: a list through the entries, oldest first. A rewrite moves its entry
  // to the newest end and updates it in place, where re-inserting into the Map (delete, then set)
  // would cost two more hash operations and leave a hole the table has to rehash away.
  let oldest: Entry | undefined;
  let newest: Entry | undefined;

  const unlink = (entry: Entry) => {
    if (entry.older === undefined) oldest = entry.newer;
    else entry.older.newer = entry.newer;
    if (entry.newer === undefined) newest = entry.older;
    else entry.newer.older = entry.older;
    entry.older = undefined;
    entry.newer = undefined;
  };

  const append = (entry: Entry) => {
    entry.older = newest;
    if (newest === undefined) oldest = entry;
    else newest.newer = entry;
    newest = entry;
  };

  const add = (key: string, state: Entry['state'], expiresAt: number, token: string) => {
    append({ key, state, expiresAt, token, older: undefined, newer: undefined });
    entries.set(key, newest!);
    while (entries.size > maxEntries && oldest !== undefined) {
      const evicted = oldest;
      unlink(evicted);
      entries.delete(evicted.key);
    }
  };

  const rewrite = (entry: Entry, state: Entry['state'], expiresAt: number, token: string) => {
    entry.state = state;
    entry.expiresAt = expiresAt;
    entry.token = token;
    if (entry !== newest) {
      unlink(entry);
      append(entry);
    }
  };

  /** Whether `token` may write over `entry`: its own, or one that expired (nobody took the key since). */
  const owns = (entry: Entry, token: string, now: number) => entry.token === token || entry.expiresAt <= now;

  const sync: SyncIdempotencyStore = {
    claim(key, token, leaseMs) {
      const now = clock();
      const entry = entries.get(key);
      if (entry === undefined) add(key, 'pending', now + leaseMs, token);
      else if (entry.expiresAt > now) return entry.state === 'done' ? 'done' : 'busy';
      else rewrite(entry, 'pending', now + leaseMs, token);
      return 'claimed';
    },
    renew(key, token, leaseMs) {
      const entry = entries.get(key);
      // Only the owner's own pending claim: one released or done is not taken again by a renewal
      // that was on its way meanwhile.
      if (entry === undefined || entry.token !== token || entry.state !== 'pending') return false;
      rewrite(entry, 'pending', clock() + leaseMs, token);
      return true;
    },
    complete(key, token, ttl) {
      const now = clock();
      const entry = entries.get(key);
      const expiresAt = now + (ttl ?? ttlMs);
      if (entry === undefined) add(key, 'done', expiresAt, token);
      else if (owns(entry, token, now)) rewrite(entry, 'done', expiresAt, token);
      else return false;
      return true;
    },
    release(key, token) {
      const entry = entries.get(key);
      if (entry?.state === 'pending' && entry.token === token) {
        entries.delete(key);
        unlink(entry);
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
