import type { StoreCalls } from '../policies/idempotent.ts';
import type { ClaimEntry, ClaimResult, IdempotencyStore } from './store.ts';

/**
 * The calls handle() makes to `store`: its synchronous twin when it has one; else the store, with
 * the claims made in one tick gathered into one `claimMany` round trip and the completions into
 * one `completeMany`, where the store has them. Deliveries of a prefetch window start together and
 * tend to finish together, so a remote store is not held to one round trip per event.
 */
export function storeCalls(store: IdempotencyStore): StoreCalls {
  if (store.sync !== undefined) return store.sync;
  const { claimMany, completeMany } = store;
  if (claimMany === undefined && completeMany === undefined) return store;
  return {
    claim:
      claimMany === undefined
        ? (key, token, leaseMs) => store.claim(key, token, leaseMs)
        : gathered<ClaimResult>(
            (key, token, leaseMs) => store.claim(key, token, leaseMs),
            (entries, leaseMs) => claimMany.call(store, entries, leaseMs),
          ),
    renew: (key, token, leaseMs) => store.renew(key, token, leaseMs),
    complete:
      completeMany === undefined
        ? (key, token, ttlMs) => store.complete(key, token, ttlMs)
        : gathered<boolean>(
            (key, token, ttlMs) => store.complete(key, token, ttlMs),
            (entries, ttlMs) => completeMany.call(store, entries, ttlMs),
          ),
    release: (key, token) => store.release(key, token),
  };
}

interface Batch<A> {
  readonly ms: number;
  readonly entries: ClaimEntry[];
  readonly waiting: Array<{ resolve: (answer: A) => void; reject: (error: unknown) => void }>;
  sent: boolean;
}

/** One call per tick (and per `ms`): `one` for a lone entry, `many` for several. */
function gathered<A>(
  one: (key: string, token: string, ms: number) => Promise<A>,
  many: (entries: readonly ClaimEntry[], ms: number) => Promise<A[]>,
): (key: string, token: string, ms: number) => Promise<A> {
  let open: Batch<A> | undefined;
  const flush = (batch: Batch<A>) => {
    if (open === batch) open = undefined;
    if (batch.sent) return;
    batch.sent = true;
    const { entries, waiting } = batch;
    let answers: Promise<A[]>;
    try {
      answers =
        entries.length === 1
          ? one(entries[0]!.key, entries[0]!.token, batch.ms).then((answer) => [answer])
          : many(entries, batch.ms);
    } catch (error) {
      answers = Promise.reject(error);
    }
    answers.then(
      (all) => {
        if (all.length !== entries.length) {
          const error = new Error(
            `The idempotency store answered ${all.length} of ${entries.length} entries`,
          );
          for (const w of waiting) w.reject(error);
          return;
        }
        for (let i = 0; i < waiting.length; i++) waiting[i]!.resolve(all[i]!);
      },
      (error: unknown) => {
        for (const w of waiting) w.reject(error);
      },
    );
  };
  return (key, token, ms) =>
    new Promise<A>((resolve, reject) => {
      if (open !== undefined && open.ms !== ms) flush(open);
      if (open === undefined) {
        const batch: Batch<A> = { ms, entries: [], waiting: [], sent: false };
        open = batch;
        queueMicrotask(() => flush(batch));
      }
      open.entries.push({ key, token });
      open.waiting.push({ resolve, reject });
    });
}
