import type { WireMessage } from './transport.ts';

/**
 * The id a broker that de-duplicates publishes (JetStream `Nats-Msg-Id`, SQS FIFO
 * `MessageDeduplicationId`) should use for `message`: the event id, so a retried publish is
 * dropped, but distinct per dead-lettering and per redrive. A redrive republishes the event with
 * its id, and the same event may be dead-lettered again, inside the broker's window: keyed by the
 * id alone, the broker would drop those as duplicates (and the DLQ lose a dead letter).
 */
export function deduplicationId(message: WireMessage): string | undefined {
  const { id, redrivecount, deadletteredat } = message.headers;
  if (id === undefined || id === '') return undefined;
  if (redrivecount === undefined && deadletteredat === undefined) return id;
  return `${id}~r${redrivecount ?? 0}${deadletteredat === undefined ? '' : `~d${deadletteredat}`}`;
}
