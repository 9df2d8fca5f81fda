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

  const put = (key: string, entry: Entry) => {
    entries.delete(key);
    entries.set(key, entry);
    while (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
  };

  const sync: SyncIdempotencyStore = {
    claim(key, leaseMs) {
      const now = Date.now();
      const entry = entries.get(key);
      if (entry && entry.expiresAt > now) return entry.state === 'done' ? 'done' : 'busy';
      put(key, { state: 'pending', expiresAt: now + leaseMs });
      return 'claimed';
    },
    complete(key, ttl) {
      put(key, { state: 'done', expiresAt: Date.now() + (ttl ?? ttlMs) });
    },
    release(key) {
      if (entries.get(key)?.state === 'pending') entries.delete(key);
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
