// Until core's handle() speaks the v2 store contract (tokens, claimMany), the bench drives a v2
// store through the v1 calls handle() makes today: a token per key kept here, and the claims (and
// completions) of one tick gathered into one claimMany (completeMany), which is what handle()
// itself will do. When core's memory store has `renew`, handle() is v2 and gets the store as is.
import { randomBytes } from 'node:crypto';

type Claim = 'claimed' | 'done' | 'busy';
interface V2 {
  claim(key: string, token: string, leaseMs: number): Promise<Claim>;
  claimMany?(claims: readonly { key: string; token: string }[], leaseMs: number): Promise<Claim[]>;
  complete(key: string, token: string, ttlMs: number): Promise<boolean>;
  completeMany?(entries: readonly { key: string; token: string }[], ttlMs: number): Promise<boolean[]>;
  release(key: string, token: string): Promise<void>;
}

/** Gathers calls made in one tick into one batch call. */
function batcher<I, O>(flush: (items: I[]) => Promise<O[]>): (item: I) => Promise<O> {
  let queue: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  return (item) =>
    new Promise<O>((resolve, reject) => {
      if (queue.length === 0)
        setImmediate(() => {
          const batch = queue;
          queue = [];
          flush(batch.map((q) => q.item)).then(
            (out) => {
              for (const [i, q] of batch.entries()) q.resolve(out[i]!);
            },
            (error: unknown) => {
              for (const q of batch) q.reject(error);
            },
          );
        });
      queue.push({ item, resolve, reject });
    });
}

export function asV1(store: V2) {
  const prefix = randomBytes(6).toString('hex');
  let counter = 0;
  const tokens = new Map<string, string>();
  let lease = 60_000;
  let ttl = 60_000;
  const claim = batcher<{ key: string; token: string }, Claim>((items) =>
    store.claimMany
      ? store.claimMany(items, lease)
      : Promise.all(items.map((i) => store.claim(i.key, i.token, lease))),
  );
  const complete = batcher<{ key: string; token: string }, boolean>((items) =>
    store.completeMany
      ? store.completeMany(items, ttl)
      : Promise.all(items.map((i) => store.complete(i.key, i.token, ttl))),
  );
  return {
    async claim(key: string, leaseMs: number): Promise<Claim> {
      lease = leaseMs;
      const token = `${prefix}-${counter++}`;
      tokens.set(key, token);
      return claim({ key, token });
    },
    async complete(key: string, ttlMs: number): Promise<void> {
      ttl = ttlMs;
      const token = tokens.get(key) ?? '';
      tokens.delete(key);
      await complete({ key, token });
    },
    async release(key: string): Promise<void> {
      const token = tokens.get(key) ?? '';
      tokens.delete(key);
      await store.release(key, token);
    },
  };
}
