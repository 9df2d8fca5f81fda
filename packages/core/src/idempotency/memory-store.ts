import { KeyArena } from './key-arena.ts';
import { hashKey, KeyIndex } from './key-index.ts';
import type { ClaimEntry, ClaimResult, IdempotencyStore, SyncIdempotencyStore } from './store.ts';

export interface MemoryIdempotencyStoreOptions {
  /** How long a handled id is remembered. Default: 24 h. */
  readonly ttlMs?: number;
  /**
   * Most ids kept; the oldest are forgotten first. Default: 100 000. Room is taken in steps of four
   * times what is held (from 1 024 entries, about 60 bytes each plus the key), never past this.
   */
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

const PENDING = 1;
const DONE = 2;
const NONE = -1;

/**
 * One process's memory: enough for tests, demos and a single-member group. Implements the whole
 * contract, fencing included, and answers synchronously too (`sync`), so handle() over it costs no
 * promise per call.
 */
export function memoryIdempotencyStore(options: MemoryIdempotencyStoreOptions = {}): MemoryIdempotencyStore {
  const ttlMs = options.ttlMs ?? 86_400_000;
  const maxEntries = options.maxEntries ?? 100_000;
  // A typo (NaN, a string) would otherwise keep every id forever or none.
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1)
    throw new RangeError(`maxEntries must be a positive integer, not ${String(maxEntries)}`);
  // Entries are numbers into typed arrays, not objects: a store remembering 100 000 ids keeps no
  // object per id for the collector to trace and move (key-index.ts finds them, key-arena.ts
  // keeps their keys).
  let capacity = Math.min(1_024, maxEntries + 1);
  const keys = new KeyArena(capacity);
  const index = new KeyIndex((entry, key) => keys.equals(entry, key), capacity);
  /** A pending claim's owner token (fencing needs the exact token). */
  const tokens = new Array<string | undefined>(capacity).fill(undefined);
  /**
   * A done mark's owner, as the hash of its token: keeping every token string of 100 000 done ids
   * cost the collector more than all the store's other work (#24). The hash tells a repeated
   * complete() by the owner from another owner's; a collision (2^-32) lets another owner's
   * complete() of a done key through, which only renews a mark that is there anyway.
   */
  let doneBy = new Int32Array(capacity);
  let states = new Uint8Array(capacity);
  /** In the store's clock (see `clock`). */
  let expires = new Float64Array(capacity);
  /** The key's hash, to find its slot in the index when the entry is evicted. */
  let hashes = new Int32Array(capacity);
  // Write order, for eviction: a list through the entries, oldest first. A rewrite moves its entry
  // to the newest end and updates it in place, without touching the index.
  let older = new Int32Array(capacity);
  let newer = new Int32Array(capacity);
  let oldest = NONE;
  let newest = NONE;
  /** Entries given back (released, evicted), chained through `newer`; then never-used ones from `used`. */
  let free = NONE;
  let used = 0;
  // Times are milliseconds since the store was made.
  const base = Date.now();
  const clock = () => Date.now() - base;
  // handle() claims a key and, with a synchronous handler, completes it right after: the slot the
  // last lookup found saves the second hash and probe, while no slot has moved since.
  let lastKey: string | undefined;
  let lastSlot = 0;
  let lastMoves = 0;
  const remember = (key: string, slot: number) => {
    lastKey = key;
    lastSlot = slot;
    lastMoves = index.moves;
  };

  const grow = () => {
    // At most maxEntries + 1 are live at once (an add evicts after it writes). Four times, not
    // twice: each growth copies every array and rehashes the index, and doubling from 1 024 to
    // 200 000 entries cost about 8 % of a memory:// round (#24).
    capacity = Math.min(4 * capacity, maxEntries + 1);
    tokens.length = capacity;
    tokens.fill(undefined, used);
    keys.resize(capacity);
    index.reserve(capacity);
    const bigger = <A extends Uint8Array | Int32Array | Float64Array>(from: A, make: (n: number) => A): A => {
      const to = make(capacity);
      to.set(from);
      return to;
    };
    states = bigger(states, (n) => new Uint8Array(n));
    expires = bigger(expires, (n) => new Float64Array(n));
    hashes = bigger(hashes, (n) => new Int32Array(n));
    doneBy = bigger(doneBy, (n) => new Int32Array(n));
    older = bigger(older, (n) => new Int32Array(n));
    newer = bigger(newer, (n) => new Int32Array(n));
  };

  const unlink = (entry: number) => {
    const before = older[entry]!;
    const after = newer[entry]!;
    if (before === NONE) oldest = after;
    else newer[before] = after;
    if (after === NONE) newest = before;
    else older[after] = before;
  };

  const append = (entry: number) => {
    older[entry] = newest;
    newer[entry] = NONE;
    if (newest === NONE) oldest = entry;
    else newer[newest] = entry;
    newest = entry;
  };

  /** Forget the entry at index slot `slot`. */
  const remove = (slot: number) => {
    const entry = index.valueAt(slot);
    index.removeAt(slot);
    unlink(entry);
    states[entry] = 0;
    tokens[entry] = undefined;
    keys.drop(entry);
    newer[entry] = free;
    free = entry;
  };

  const add = (key: string, hash: number, state: number, expiresAt: number, token: string) => {
    let entry = free;
    if (entry !== NONE) free = newer[entry]!;
    else {
      if (used === capacity) grow();
      entry = used++;
    }
    write(entry, state, expiresAt, token);
    hashes[entry] = hash;
    keys.set(entry, key);
    append(entry);
    remember(key, index.add(hash, entry));
    while (index.size > maxEntries && oldest !== NONE) remove(index.slotOf(oldest, hashes[oldest]!));
  };

  const write = (entry: number, state: number, expiresAt: number, token: string) => {
    states[entry] = state;
    expires[entry] = expiresAt;
    if (state === PENDING) tokens[entry] = token;
    else {
      tokens[entry] = undefined;
      doneBy[entry] = hashKey(token);
    }
  };

  const rewrite = (entry: number, state: number, expiresAt: number, token: string) => {
    write(entry, state, expiresAt, token);
    if (entry !== newest) {
      unlink(entry);
      append(entry);
    }
  };

  /** The index slot of `key`, or -1. */
  const slotOf = (key: string) => {
    if (key === lastKey && index.moves === lastMoves) return lastSlot;
    const slot = index.find(key, hashKey(key));
    if (slot >= 0) remember(key, slot);
    return slot;
  };

  /** Whether `token` may write over `entry`: its own, or one that expired (nobody took the key since). */
  const owns = (entry: number, token: string, now: number) =>
    expires[entry]! <= now ||
    (states[entry] === PENDING ? tokens[entry] === token : doneBy[entry] === hashKey(token));

  const sync: SyncIdempotencyStore = {
    claim(key, token, leaseMs) {
      const now = clock();
      const hash = hashKey(key);
      const slot = index.find(key, hash);
      if (slot < 0) {
        add(key, hash, PENDING, now + leaseMs, token);
        return 'claimed';
      }
      remember(key, slot);
      const entry = index.valueAt(slot);
      if (expires[entry]! > now) return states[entry] === DONE ? 'done' : 'busy';
      rewrite(entry, PENDING, now + leaseMs, token);
      return 'claimed';
    },
    renew(key, token, leaseMs) {
      const slot = slotOf(key);
      if (slot < 0) return false;
      const entry = index.valueAt(slot);
      // Only the owner's own pending claim: one released or done is not taken again by a renewal
      // that was on its way meanwhile.
      if (tokens[entry] !== token || states[entry] !== PENDING) return false;
      rewrite(entry, PENDING, clock() + leaseMs, token);
      return true;
    },
    complete(key, token, ttl) {
      const now = clock();
      const expiresAt = now + (ttl ?? ttlMs);
      const slot = slotOf(key);
      if (slot < 0) add(key, hashKey(key), DONE, expiresAt, token);
      else {
        const entry = index.valueAt(slot);
        if (!owns(entry, token, now)) return false;
        rewrite(entry, DONE, expiresAt, token);
      }
      return true;
    },
    release(key, token) {
      const slot = slotOf(key);
      if (slot < 0) return;
      const entry = index.valueAt(slot);
      if (states[entry] === PENDING && tokens[entry] === token) remove(slot);
    },
  };

  return {
    ttlMs,
    get size() {
      return index.size;
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
