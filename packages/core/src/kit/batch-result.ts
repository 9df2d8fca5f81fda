import { PublishBatchError } from '../errors.ts';

/** A message of a publish call the broker did not accept, by its position in the call. */
export interface PublishFailure {
  readonly index: number;
  readonly error: Error;
}

/**
 * What a publish of `total` messages rejects with, given the ones that failed: nothing when none
 * did, the error itself for a one-message publish (the caller sent one event: it gets its error),
 * else a `PublishBatchError` naming each failed message, in position order.
 */
export function publishError(failures: readonly PublishFailure[], total: number): Error | undefined {
  if (failures.length === 0) return undefined;
  if (total === 1) return failures[0]!.error;
  const ordered = failures.every((failure, i) => i === 0 || failures[i - 1]!.index < failure.index)
    ? failures
    : [...failures].sort((a, b) => a.index - b.index);
  return new PublishBatchError(ordered, total);
}

/**
 * Resolve when every send of a publish (one per message, in order) resolved, else reject with
 * `publishError`; `toError` turns a broker client's rejection into the error the caller sees.
 */
export async function settleSends(
  sends: readonly Promise<unknown>[],
  toError: (reason: unknown) => Error = (reason) => reason as Error,
): Promise<void> {
  const results = await Promise.allSettled(sends);
  const failures: PublishFailure[] = [];
  for (let index = 0; index < results.length; index++) {
    const result = results[index]!;
    if (result.status === 'rejected') failures.push({ index, error: toError(result.reason) });
  }
  const error = publishError(failures, results.length);
  if (error) throw error;
}
