// Single publishes gathered into SendMessageBatch, against the live emulator (fauxqs by default).
// The transport's own SQS client is real; the test only records what it sends.
import {
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import { TransportError, type WireMessage } from '@switchyard/core';
import { afterEach, describe, expect, it } from 'vitest';
import { toSqs } from '../src/binding.ts';
import { createClients } from '../src/clients.ts';
import { topicQueueName } from '../src/names.ts';
import { resolveOptions, type SqsOptions } from '../src/options.ts';
import { SqsTransport } from '../src/transport.ts';
import { rawClients, sqsUrl, text, unique } from './helpers.ts';

const raw = rawClients();
const opened: SqsTransport[] = [];
const queues: string[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((t) => t.close()));
  for (const name of queues.splice(0)) {
    const url = await raw.sqs
      .send(new GetQueueUrlCommand({ QueueName: name }))
      .then((r) => r.QueueUrl)
      .catch(() => undefined);
    if (url) await raw.sqs.send(new DeleteQueueCommand({ QueueUrl: url }));
  }
});

/** A transport with fan-out off (one queue per topic, as the benchmark runs it) and every SendMessageBatch it makes. */
function open(options: SqsOptions = {}) {
  const resolved = resolveOptions(new URL(sqsUrl({ fanout: 'none' })), options);
  const clients = createClients(resolved);
  const sent: number[][] = [];
  const send = clients.sqs.send.bind(clients.sqs) as (
    command: unknown,
    options?: unknown,
  ) => Promise<unknown>;
  (clients.sqs as unknown as { send: typeof send }).send = (command, sendOptions) => {
    if (command instanceof SendMessageBatchCommand) {
      const entries = command.input.Entries ?? [];
      sent.push(entries.map((e) => toSqsSize(e)));
    }
    return send(command, sendOptions);
  };
  const transport = new SqsTransport(resolved, clients);
  opened.push(transport);
  return { transport, sent };
}

/** What SQS counts for an entry (body, attribute names, types and values), as the transport does. */
function toSqsSize(entry: {
  MessageBody?: string;
  MessageAttributes?: Record<string, { DataType?: string; StringValue?: string }>;
}): number {
  let size = Buffer.byteLength(entry.MessageBody ?? '');
  for (const [name, value] of Object.entries(entry.MessageAttributes ?? {}))
    size +=
      Buffer.byteLength(name) +
      Buffer.byteLength(value.DataType ?? '') +
      Buffer.byteLength(value.StringValue ?? '');
  return size;
}

const message = (n: number, padding = 0): WireMessage => ({
  headers: { specversion: '1.0', id: `e-${n}`, type: 't', source: 'tests' },
  body: text(JSON.stringify({ n, pad: 'x'.repeat(padding) })),
});

async function topicQueue(topic: string): Promise<string> {
  const name = topicQueueName('', topic, false);
  queues.push(name);
  const reply = await raw.sqs.send(new GetQueueUrlCommand({ QueueName: name }));
  return reply.QueueUrl!;
}

/** Messages stored in a queue (visible and in flight), as the emulator counts them. */
async function stored(queueUrl: string): Promise<number> {
  const reply = await raw.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  const a = reply.Attributes ?? {};
  return Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0);
}

/** Waits until the queue holds `count` messages (the emulator counts them a moment after the reply). */
async function storedReaches(queueUrl: string, count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  let now = await stored(queueUrl);
  while (now !== count) {
    if (Date.now() > deadline) throw new Error(`the queue holds ${now} messages, not ${count}`);
    await new Promise((r) => setTimeout(r, 50));
    now = await stored(queueUrl);
  }
}

describe('single publishes are gathered into SendMessageBatch', () => {
  it('25 concurrent single publishes go in batches of at most 10, and every one is stored', async () => {
    const { transport, sent } = open();
    const topic = unique('singles');
    await transport.provision(topic, 'g');
    const queueUrl = await topicQueue(topic);
    await Promise.all(Array.from({ length: 25 }, (_, n) => transport.publish(topic, [message(n)])));
    expect(sent.flat()).toHaveLength(25);
    expect(Math.max(...sent.map((b) => b.length))).toBeLessThanOrEqual(10);
    // Gathered, not one request each: 25 in the same turn make three batches.
    expect(sent.length).toBeLessThanOrEqual(3);
    await storedReaches(queueUrl, 25);
  });

  it('a batch stays within the byte limit: concurrent publishes that would exceed it are split', async () => {
    const maxMessageBytes = 16_384;
    const { transport, sent } = open({ maxMessageBytes });
    const topic = unique('split');
    await transport.provision(topic, 'g');
    const queueUrl = await topicQueue(topic);
    const one = toSqs(message(0, 5_000)).size;
    expect(one * 3).toBeLessThanOrEqual(maxMessageBytes);
    expect(one * 4).toBeGreaterThan(maxMessageBytes);
    await Promise.all(Array.from({ length: 8 }, (_, n) => transport.publish(topic, [message(n, 5_000)])));
    expect(sent.flat()).toHaveLength(8);
    for (const batch of sent) expect(batch.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(maxMessageBytes);
    // Three fit, the fourth would not: never more than three per request.
    expect(Math.max(...sent.map((b) => b.length))).toBe(3);
    await storedReaches(queueUrl, 8);
  });

  it('an entry the queue refuses rejects only its own publish, with its own TransportError; the others are stored', async () => {
    // The queue takes at most 1 KiB per message (the emulator checks it per entry), the transport 256 KiB.
    const { transport, sent } = open({ queueAttributes: { MaximumMessageSize: '1024' } });
    const topic = unique('refused');
    await transport.provision(topic, 'g');
    const queueUrl = await topicQueue(topic);
    const results = await Promise.allSettled([
      transport.publish(topic, [message(0)]),
      transport.publish(topic, [message(1, 2_000)]),
      transport.publish(topic, [message(2)]),
    ]);
    // One request carried all three.
    expect(sent.map((b) => b.length)).toEqual([3]);
    expect(results[0]!.status).toBe('fulfilled');
    expect(results[2]!.status).toBe('fulfilled');
    expect(results[1]!.status).toBe('rejected');
    const error = (results[1] as PromiseRejectedResult).reason as Error;
    expect(error).toBeInstanceOf(TransportError);
    expect(error.message).toMatch(/1024/);
    await storedReaches(queueUrl, 2);
  });

  it('close() sends what was gathered before it closes, and every publish resolves', async () => {
    const { transport, sent } = open();
    const topic = unique('close');
    await transport.provision(topic, 'g');
    const queueUrl = await topicQueue(topic);
    const publishing = Array.from({ length: 15 }, (_, n) => transport.publish(topic, [message(n)]));
    // Nothing awaited yet: five of them still wait to be sent when close() is called.
    const closing = transport.close();
    await expect(Promise.all(publishing)).resolves.toBeDefined();
    await closing;
    expect(sent.flat()).toHaveLength(15);
    await storedReaches(queueUrl, 15);
    await expect(transport.publish(topic, [message(99)])).rejects.toThrow();
  });
});
