import { MessageTooLargeError, TransportError } from '@switchyard/core';
import { publishError as batchError } from '@switchyard/core/transport';
import { redact } from './logger.ts';

/** Kafka's answers to a record or record batch over `max.message.bytes` (or the request limit). */
const TOO_LARGE = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

/** Both clients wrap the broker's error in retry and aggregate errors; look through all of them. */
export function causes(error: unknown): Error[] {
  const found: Error[] = [];
  const seen = new Set<unknown>();
  const visit = (e: unknown) => {
    if (!(e instanceof Error) || seen.has(e)) return;
    seen.add(e);
    found.push(e);
    visit((e as { cause?: unknown }).cause);
    visit((e as { originalError?: unknown }).originalError);
    const nested = (e as { errors?: unknown }).errors;
    if (Array.isArray(nested)) for (const n of nested) visit(n);
  };
  visit(error);
  return found;
}

export function isTooLarge(error: unknown): boolean {
  // kafkajs names the broker's error code `type`, @platformatic/kafka `apiId`.
  return causes(error).some((e) => {
    const { type, apiId } = e as { type?: string; apiId?: string };
    return TOO_LARGE.has(type ?? apiId ?? '');
  });
}

/**
 * An ack whose offset was never committed: the member lost the partition (a rebalance gave it to
 * another member, the member crashed or stopped) before a commit of it went through. The group hands
 * the record out again; handle() reports the attempt `released` with this error.
 */
export class AckNotCommittedError extends TransportError {
  override name = 'AckNotCommittedError';
}

/** A kafkajs failure as core's `TransportError`, message free of secrets. */
export function transportError(what: string, error: unknown, secrets: readonly string[]): TransportError {
  const root = causes(error);
  const detail = root.length > 0 ? root[root.length - 1]!.message : String(error);
  const top = root[0]?.message ?? detail;
  const message = top === detail ? top : `${top} (${detail})`;
  return new TransportError(redact(`${what}: ${message}`, secrets), { cause: error });
}

/**
 * The error a publish of `indexes` (positions in the caller's batch) rejects with. Kafka does not
 * say which records of a failed request were written, so every one of them is named as failed:
 * retrying them may duplicate, never lose.
 */
export function publishError(
  error: unknown,
  indexes: readonly number[],
  total: number,
  sizes: readonly number[],
  limit: number,
  secrets: readonly string[],
): Error {
  const perMessage = (index: number, position: number): Error =>
    isTooLarge(error)
      ? Object.assign(new MessageTooLargeError(sizes[position] ?? 0, limit, index), { cause: error })
      : transportError('Kafka did not accept the publish', error, secrets);
  const failures = indexes.map((index, position) => ({ index, error: perMessage(index, position) }));
  return batchError(failures, total) ?? perMessage(0, 0);
}
