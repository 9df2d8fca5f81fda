import type { IdempotencyStore, SyncIdempotencyStore } from './store.ts';

export interface MemoryIdempotencyStoreOptions {
  /** How long a handled id is remembered. Default: 24 h. */
  readonly ttlMs?: number;
  /** Most ids kept; the oldest are forgotten first. Default: 100 000. */
  readonly maxEntries?: number;
}

interface Entry {
  state: 'pending' | 'done';
  expiresAt: number;
}

/** One process's memory: enough for tests, demos and a single-member group. */
export function memoryIdempotencyStore(options: MemoryIdempotencyStoreOptions = {}): IdempotencyStore & {
  readonly size: number;
  readonly ttlMs: number;
  readonly sync: SyncIdempotencyStore;
} {
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

  const sync: SyncIdempotencyStore = {
    claim(key, leaseMs) {
      const now = Date.now();
      const entry = entries.get(key);
      if (entry && entry.expiresAt > now) return entry.state === 'done' ? 'done' : 'busy';
      put(key, { state: 'pending', expiresAt: now + leaseMs }, entry !== undefined);
      return 'claimed';
    },
    complete(key, ttl) {
      put(key, { state: 'done', expiresAt: Date.now() + (ttl ?? ttlMs) }, true);
    },
    release(key) {
      if (entries.get(key)?.state === 'pending') {
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
    async claim(key, leaseMs) {
      return sync.claim(key, leaseMs);
    },
    async complete(key, ttl) {
      sync.complete(key, ttl);
    },
    async release(key) {
      sync.release(key);
    },
  };
}
