import { PublishBatchCommand } from '@aws-sdk/client-sns';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { TransportError } from '@switchyard/core';
import { publishError } from '@switchyard/core/transport';
import type { SqsPayload } from './binding.ts';
import type { Clients } from './clients.ts';
import { transportError } from './errors.ts';
import { fifoId } from './names.ts';
import type { Targets } from './topology.ts';

/** One message of a publish call, with its position for `PublishBatchError`. */
export interface Outgoing {
  readonly index: number;
  readonly payload: SqsPayload;
  /** FIFO only: MessageGroupId (the key) and MessageDeduplicationId (the event id). */
  readonly groupId?: string;
  readonly dedupId?: string;
}

/** Both SendMessageBatch and PublishBatch take at most 10 entries. */
const BATCH_ENTRIES = 10;

/** Split into batches of at most 10 entries and `maxBytes` in total, keeping order. */
export function chunk(entries: readonly Outgoing[], maxBytes: number): Outgoing[][] {
  const chunks: Outgoing[][] = [];
  let current: Outgoing[] = [];
  let bytes = 0;
  for (const entry of entries) {
    if (current.length === BATCH_ENTRIES || (current.length > 0 && bytes + entry.payload.size > maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += entry.payload.size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** FIFO ids for a message: its key orders it (no key: its own group), its event id dedups it. */
export function fifoIds(key: string | undefined, id: string | undefined, fallback: string) {
  return { groupId: fifoId(key ?? id ?? fallback), dedupId: fifoId(id ?? fallback) };
}

/**
 * Send every entry to every target; resolve when all were accepted, else reject with
 * `PublishBatchError` naming each entry some target did not accept (a single entry: its own error). Batches to one target go one
 * after the other, so a key's messages are stored in publish order; targets are sent in parallel.
 */
export async function publishAll(
  clients: Clients,
  targets: Targets,
  entries: readonly Outgoing[],
  maxBatchBytes: number,
): Promise<void> {
  const chunks = chunk(entries, maxBatchBytes);
  const failures = new Map<number, Error>();
  const sends =
    targets.kind === 'sns'
      ? [sendChunks(chunks, failures, (batch) => publishSns(clients, targets.arn, batch))]
      : targets.urls.map((url) => sendChunks(chunks, failures, (batch) => sendSqs(clients, url, batch)));
  await Promise.all(sends);
  const error = publishError(
    [...failures].map(([index, error]) => ({ index, error })),
    entries.length,
  );
  if (error) throw error;
}

type BatchResult = ReadonlyMap<number, Error>;

/**
 * Send one batch (at most 10 entries within the byte limit, `index` = position) to every target
 * at once; per entry, the error it failed with, undefined where every target accepted it. A
 * request that failed as a whole fails each of its entries with that request's error.
 */
export async function sendBatch(
  clients: Clients,
  targets: Targets,
  batch: readonly Outgoing[],
): Promise<Array<Error | undefined>> {
  const results: Array<Error | undefined> = new Array(batch.length).fill(undefined);
  const toTarget = async (send: () => Promise<BatchResult>) => {
    let failed: BatchResult;
    try {
      failed = await send();
    } catch (error) {
      const reason = transportError('publish', error);
      for (let index = 0; index < batch.length; index++) results[index] ??= reason;
      return;
    }
    for (const [index, error] of failed) results[index] ??= error;
  };
  await Promise.all(
    targets.kind === 'sns'
      ? [toTarget(() => publishSns(clients, targets.arn, batch))]
      : targets.urls.map((url) => toTarget(() => sendSqs(clients, url, batch))),
  );
  return results;
}

async function sendChunks(
  chunks: readonly Outgoing[][],
  failures: Map<number, Error>,
  send: (batch: readonly Outgoing[]) => Promise<BatchResult>,
): Promise<void> {
  for (const [position, batch] of chunks.entries()) {
    let failed: BatchResult;
    try {
      failed = await send(batch);
    } catch (error) {
      // The whole request failed: this batch and the ones after it (never sent, so that a retry
      // does not put them ahead of this one) are reported failed.
      const reason = transportError('publish', error);
      for (const rest of chunks.slice(position)) for (const entry of rest) failures.set(entry.index, reason);
      return;
    }
    for (const [index, error] of failed) if (!failures.has(index)) failures.set(index, error);
  }
}

function entryFailures(
  batch: readonly Outgoing[],
  failed: ReadonlyArray<{ Id?: string; Code?: string; Message?: string }> | undefined,
): BatchResult {
  const result = new Map<number, Error>();
  for (const f of failed ?? []) {
    const entry = batch[Number(f.Id)];
    if (entry)
      result.set(entry.index, new TransportError(`SQS rejected the message: ${f.Code}: ${f.Message ?? ''}`));
  }
  return result;
}

async function sendSqs(clients: Clients, queueUrl: string, batch: readonly Outgoing[]): Promise<BatchResult> {
  const reply = await clients.sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: batch.map((entry, position) => ({
        Id: String(position),
        MessageBody: entry.payload.body,
        MessageAttributes: entry.payload.attributes,
        ...(entry.groupId ? { MessageGroupId: entry.groupId, MessageDeduplicationId: entry.dedupId } : {}),
      })),
    }),
  );
  return entryFailures(batch, reply.Failed);
}

async function publishSns(
  clients: Clients,
  topicArn: string,
  batch: readonly Outgoing[],
): Promise<BatchResult> {
  const reply = await clients.sns.send(
    new PublishBatchCommand({
      TopicArn: topicArn,
      PublishBatchRequestEntries: batch.map((entry, position) => ({
        Id: String(position),
        Message: entry.payload.body,
        MessageAttributes: entry.payload.attributes,
        ...(entry.groupId ? { MessageGroupId: entry.groupId, MessageDeduplicationId: entry.dedupId } : {}),
      })),
    }),
  );
  return entryFailures(batch, reply.Failed);
}
