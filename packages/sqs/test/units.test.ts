// The pure parts: names, envelope, options, batching and per-entry failures (no broker needed).
import {
  Bus,
  InvalidUrlError,
  MessageTooLargeError,
  PublishBatchError,
  TransportError,
  UnsupportedOptionError,
} from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import { fromSqs, toSqs } from '../src/binding.ts';
import { type Clients, createClients } from '../src/clients.ts';
import {
  escapeName,
  fifoId,
  groupQueueName,
  groupQueuePrefix,
  snsTopicName,
  topicQueueName,
} from '../src/names.ts';
import { resolveOptions } from '../src/options.ts';
import { chunk, type Outgoing, publishAll } from '../src/publisher.ts';
import { declaredMaxBytes, SqsTransport } from '../src/transport.ts';

const url = (query = '') => new URL(`sqs://?endpoint=http://127.0.0.1:4566${query}`);

describe('naming', () => {
  it('escapes every character outside [A-Za-z0-9-] one-to-one and never produces "__"', () => {
    const names = ['orders', 'orders.billing.dlq', 'a_b', 'a__b', 'a-b', 'ä', '_', '__', 'a b', 'A.B'];
    const escaped = names.map(escapeName);
    expect(new Set(escaped).size).toBe(names.length);
    for (const e of escaped) {
      expect(e).toMatch(/^[A-Za-z0-9_-]*$/);
      expect(e).not.toContain('__');
    }
    expect(escapeName('orders.billing')).toBe('orders_2Ebilling');
  });

  it('keeps queue names within 80 characters and distinct when long names are hashed', () => {
    const long = 'x'.repeat(200);
    const a = groupQueueName('prefix-12345', long, `${long}.a`, true);
    const b = groupQueueName('prefix-12345', long, `${long}.b`, true);
    expect(a.length).toBeLessThanOrEqual(80);
    expect(a).not.toBe(b);
    expect(a.endsWith('.fifo')).toBe(true);
    expect(a.startsWith(groupQueuePrefix('prefix-12345', long))).toBe(true);
    expect(topicQueueName('p-', 'é'.repeat(100), false).length).toBeLessThanOrEqual(80);
    expect(snsTopicName('', long.repeat(2), false).length).toBeLessThanOrEqual(256);
  });

  it('a group queue belongs to exactly one topic prefix, even when topic names share a start', () => {
    const queue = groupQueueName('', 'orders_x', 'g', false);
    expect(queue.startsWith(groupQueuePrefix('', 'orders_x'))).toBe(true);
    expect(queue.startsWith(groupQueuePrefix('', 'orders'))).toBe(false);
  });

  it('FIFO ids keep valid keys and hash the rest', () => {
    expect(fifoId('k-1')).toBe('k-1');
    expect(fifoId('ключ')).toMatch(/^h:[0-9a-f]{64}$/);
    expect(fifoId('x'.repeat(129))).toMatch(/^h:/);
    expect(fifoId('a b')).not.toBe(fifoId('a  b'));
  });
});

describe('envelope', () => {
  const headers = {
    specversion: '1.0',
    id: 'id-1',
    type: 't',
    source: 's',
    partitionkey: 'k',
    quoted: 'say "hi" \\ é ✓ \uFFFF\uFFFE',
  };

  const roundTrip = (message: { headers: Record<string, string>; body: Uint8Array; key?: string }) => {
    const payload = toSqs(message);
    return fromSqs(payload.body, payload.attributes);
  };

  it('round-trips text, every byte value, empty data and a leading BOM byte-exact', () => {
    const bodies = [
      new TextEncoder().encode('{"a":"héllo"}\r\n'),
      Uint8Array.from({ length: 256 }, (_, i) => i),
      new Uint8Array(0),
      Uint8Array.from([0xef, 0xbb, 0xbf, 0x41]),
      new TextEncoder().encode('\uFFFF not allowed in SQS text'),
    ];
    for (const body of bodies) {
      const back = roundTrip({ headers, body, key: 'k' });
      expect(Buffer.from(back.body).equals(Buffer.from(body))).toBe(true);
      expect(back.headers).toEqual(headers);
      expect(back.key).toBe('k');
    }
  });

  it('uses one attribute, two when the key differs from partitionkey, and marks the body by data type', () => {
    const binary = toSqs({ headers, body: Uint8Array.from([0, 1]), key: 'other \uFFFF key' });
    expect(Object.keys(binary.attributes).sort()).toEqual(['ce', 'ce-key']);
    expect(binary.attributes.ce!.DataType).toBe('String.base64');
    expect(binary.body).toBe('AAE=');
    expect(fromSqs(binary.body, binary.attributes).key).toBe('other \uFFFF key');
    const textual = toSqs({ headers, body: new TextEncoder().encode('x'), key: 'k' });
    expect(Object.keys(textual.attributes)).toEqual(['ce']);
    expect(textual.attributes.ce!.DataType).toBe('String');
    expect(toSqs({ headers, body: new Uint8Array(0) }).attributes.ce!.DataType).toBe('String.empty');
  });

  it('keeps the body readable as text when the data is text', () => {
    expect(toSqs({ headers, body: new TextEncoder().encode('{"n":1}') }).body).toBe('{"n":1}');
  });

  it('turns a foreign message (no ce attribute) into no headers and its body bytes', () => {
    const message = fromSqs('not an event', undefined);
    expect(message.headers).toEqual({});
    expect(new TextDecoder().decode(message.body)).toBe('not an event');
    expect(fromSqs('x', { ce: { DataType: 'String', StringValue: '{broken' } }).headers).toEqual({});
  });

  it('counts size as SQS does: body, attribute names, data types and values', () => {
    const payload = toSqs({ headers: {}, body: new Uint8Array(300).fill(0xff) });
    expect(payload.size).toBe(400 + 'ce'.length + 'String.base64'.length + '{}'.length);
  });
});

describe('options', () => {
  it('reads the URL and lets the options object win', () => {
    const o = resolveOptions(
      url('&region=eu-west-1&fanout=queues&fifo=true&prefix=app-&visibilityTimeout=7'),
      {
        region: 'us-east-2',
      },
    );
    expect(o).toMatchObject({
      endpoint: 'http://127.0.0.1:4566',
      region: 'us-east-2',
      fanOut: 'queues',
      fifo: true,
      prefix: 'app-',
      visibilityTimeoutSeconds: 7,
      waitTimeSeconds: 1,
      receiveConcurrency: 3,
    });
    expect(resolveOptions(new URL('sqs://')).waitTimeSeconds).toBe(20);
  });

  it('rejects what it cannot honour, without echoing the URL', () => {
    expect(() => resolveOptions(new URL('sqs://user:secret@host'))).toThrow(InvalidUrlError);
    expect(() => resolveOptions(url('&typo=1'))).toThrow(/Unknown sqs:\/\/ parameter 'typo'/);
    expect(() => resolveOptions(url('&fanout=kafka'))).toThrow(InvalidUrlError);
    expect(() => resolveOptions(url('&prefix=a.b'))).toThrow(InvalidUrlError);
    // Of two values the first used to win: `?fifo=true&fifo=false` was a FIFO transport.
    expect(() => resolveOptions(url('&fifo=true&fifo=false'))).toThrow(
      /sqs:\/\/ parameter 'fifo' is given twice/,
    );
    expect(() => resolveOptions(url('&endpoint=http://127.0.0.1:1'))).toThrow(InvalidUrlError);
    expect(() => resolveOptions(url(), { maxMessageBytes: 1_048_576 })).toThrow(UnsupportedOptionError);
    expect(() => resolveOptions(url(), { waitTimeSeconds: 21 })).toThrow(UnsupportedOptionError);
    try {
      resolveOptions(new URL('sqs://user:secret@host'));
    } catch (error) {
      expect(String(error)).not.toContain('secret');
    }
  });

  it('declares capabilities per mode', async () => {
    const standard = new SqsTransport(resolveOptions(url()));
    const fifo = new SqsTransport(resolveOptions(url('&fifo=true&fanout=none')));
    expect(standard.capabilities).toEqual({
      consumerGroups: true,
      keyOrderAcrossMembers: false,
      keyOrderWithinMember: false,
      nativeDelay: true,
      persistence: true,
      shared: true,
      replay: false,
      maxMessageBytes: declaredMaxBytes(262_144),
    });
    expect(fifo.capabilities).toMatchObject({
      consumerGroups: false,
      keyOrderAcrossMembers: true,
      keyOrderWithinMember: true,
    });
    await Promise.all([standard.close(), fifo.close()]);
  });
});

describe('publishing', () => {
  const entry = (index: number, size = 10): Outgoing => ({
    index,
    payload: { body: 'x', attributes: {}, size },
  });

  it('chunks by 10 entries and by total bytes, keeping order', () => {
    const sizes = chunk(
      Array.from({ length: 23 }, (_, i) => entry(i)),
      1_000,
    ).map((c) => c.map((e) => e.index));
    expect(sizes.map((c) => c.length)).toEqual([10, 10, 3]);
    expect(sizes.flat()).toEqual(Array.from({ length: 23 }, (_, i) => i));
    expect(chunk([entry(0, 600), entry(1, 600), entry(2, 300)], 1_000).map((c) => c.length)).toEqual([1, 2]);
  });

  it('reports per-entry failures by index, and a failed request fails its batch and every later one', async () => {
    let calls = 0;
    const sizes: number[] = [];
    const clients = {
      sqs: {
        send: async (command: { input: { Entries: Array<{ Id: string }> } }) => {
          calls += 1;
          sizes.push(command.input.Entries.length);
          if (calls === 1) return { Failed: [{ Id: '3', Code: 'InternalError', Message: 'try again' }] };
          throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
        },
      },
    } as unknown as Clients;
    const entries = Array.from({ length: 25 }, (_, i) => entry(i));
    const failure = await publishAll(clients, { kind: 'queues', urls: ['q'] }, entries, 262_144).catch(
      (e) => e,
    );
    expect(failure).toBeInstanceOf(PublishBatchError);
    const failed = (failure as PublishBatchError).failures.map((f) => f.index);
    expect(failed).toEqual([3, ...Array.from({ length: 15 }, (_, i) => 10 + i)]);
    expect(sizes).toEqual([10, 10]);
  });

  it('rejects a single message with its own TransportError, as other transports do, not a batch of one', async () => {
    const refusing = (reply: () => unknown) =>
      ({ sqs: { send: async () => reply() }, sns: { send: async () => reply() } }) as unknown as Clients;
    const entryFailed = refusing(() => ({
      Failed: [{ Id: '0', Code: 'KMS.Throttled', Message: 'slow down' }],
    }));
    const requestFailed = refusing(() => {
      throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
    });
    for (const clients of [entryFailed, requestFailed]) {
      for (const targets of [
        { kind: 'queues', urls: ['q'] } as const,
        { kind: 'sns', arn: 'arn' } as const,
      ]) {
        const failure = await publishAll(clients, targets, [entry(0)], 262_144).catch((e) => e);
        expect(failure).toBeInstanceOf(TransportError);
        expect(failure).not.toBeInstanceOf(PublishBatchError);
        expect((failure as Error).message).not.toMatch(/1 of 1/);
      }
    }
  });

  it('rejects an oversized message with MessageTooLargeError before any request', async () => {
    const transport = new SqsTransport(resolveOptions(url('&fanout=none')));
    const limit = transport.capabilities.maxMessageBytes;
    const big = { headers: {}, body: new Uint8Array(limit + 1) };
    // The declared limit is checked by core, on the bus, before the transport is asked.
    const bus = new Bus(transport, { source: 'test' });
    await expect(
      bus.publishWire('never-created', [{ headers: {}, body: new Uint8Array(1) }, big]),
    ).rejects.toMatchObject({
      name: 'MessageTooLargeError',
      index: 1,
      limit,
    });
    await expect(bus.publishWire('never-created', [big])).rejects.toBeInstanceOf(MessageTooLargeError);
    await transport.close();
  });
});

describe('batching acks', () => {
  it('sends what one turn added at once, holds later ones behind a batch in flight, and settles each entry', async () => {
    const { Batcher } = await import('../src/batcher.ts');
    const calls: number[][] = [];
    let release: (() => void) | undefined;
    const batcher = new Batcher<number>(async (_queue, items) => {
      calls.push([...items]);
      if (calls.length === 1) await new Promise<void>((r) => (release = r));
      return items.map((n) => (n === 13 ? new Error('bad handle') : undefined));
    });
    const first = [batcher.add('q', 1), batcher.add('q', 2)];
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual([[1, 2]]);
    const later = Array.from({ length: 12 }, (_, i) => batcher.add('q', 3 + i));
    // Ten ready go at once; the other two wait for the batch in flight.
    expect(calls).toEqual([
      [1, 2],
      [3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
    ]);
    release!();
    await Promise.all(first);
    await batcher.drain();
    expect(calls).toEqual([
      [1, 2],
      [3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
      [13, 14],
    ]);
    const outcomes = await Promise.allSettled(later);
    expect(outcomes.map((o) => o.status)).toEqual([...Array(10).fill('fulfilled'), 'rejected', 'fulfilled']);
  });
});

describe('clients', () => {
  it('cache each command’s middleware chain and carry no logger middleware', () => {
    const clients = createClients(resolveOptions(url('&region=us-east-1')));
    for (const client of [clients.sqs, clients.sns]) {
      expect(client.config.cacheMiddleware).toBe(true);
      const names = client.middlewareStack.identify().join('\n');
      expect(names).toContain('retryMiddleware');
      expect(names).not.toContain('loggerMiddleware');
    }
    clients.sqs.destroy();
    clients.sns.destroy();
  });

  it('fail a request at requestTimeout rather than only warning about it (a dead socket must not hang a poll)', async () => {
    const clients = createClients(resolveOptions(url('&region=us-east-1')));
    // The handler's resolved settings (NodeHttpHandler keeps them behind configProvider).
    const handler = clients.sqs.config.requestHandler as unknown as {
      configProvider: Promise<{ requestTimeout?: number; throwOnRequestTimeout?: boolean }>;
    };
    const config = await handler.configProvider;
    expect(config.throwOnRequestTimeout).toBe(true);
    expect(config.requestTimeout).toBeGreaterThan(15_000);
    clients.sqs.destroy();
    clients.sns.destroy();
  });
});

describe('consuming', () => {
  it('sends the next poll before handing out a full reply, hands out a short one at once, and acks each once', async () => {
    const received: string[] = [];
    let polls = 0;
    const deleted: string[] = [];
    const message = (n: number) => ({
      MessageId: `m${n}`,
      ReceiptHandle: `r${n}`,
      Body: `body ${n}`,
      MessageAttributes: toSqs({ headers: { id: `e${n}` }, body: new TextEncoder().encode(`body ${n}`) })
        .attributes,
      Attributes: { ApproximateReceiveCount: '1' },
    });
    const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => message(from + i));
    const clients = {
      sqs: {
        send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
          switch (command.constructor.name) {
            case 'GetQueueUrlCommand':
              return { QueueUrl: 'q' };
            case 'ReceiveMessageCommand':
              polls += 1;
              // A full reply (10 of the 10 asked), then a short one (3), then nothing.
              if (polls === 1) return { Messages: range(1, 10) };
              await new Promise((r) => setTimeout(r, 20));
              return { Messages: polls === 2 ? range(11, 3) : [] };
            case 'DeleteMessageBatchCommand':
              for (const e of command.input.Entries as Array<{ ReceiptHandle: string }>)
                deleted.push(e.ReceiptHandle);
              return {};
            default:
              return {};
          }
        },
        destroy: () => undefined,
      },
      sns: { send: async () => ({}), destroy: () => undefined },
    } as unknown as Clients;
    const transport = new SqsTransport(resolveOptions(url('&fanout=none')), clients);
    const pollsAtDelivery: number[] = [];
    const all = new Promise<void>((resolve) => {
      const subscription = transport.subscribe('t', { group: 'g', prefetch: 16 }).subscribe((delivery) => {
        pollsAtDelivery.push(polls);
        received.push(new TextDecoder().decode(delivery.message.body));
        void delivery.ack().then(() => {
          if (deleted.length === 13) {
            subscription.unsubscribe();
            resolve();
          }
        });
      });
    });
    await all;
    expect(received).toEqual(Array.from({ length: 13 }, (_, i) => `body ${i + 1}`));
    // The full reply waited for poll 2 to be sent; the short reply (poll 2's) did not wait for poll 3.
    expect(pollsAtDelivery).toEqual([...Array(10).fill(2), ...Array(3).fill(2)]);
    await transport.close();
    expect(deleted.sort()).toEqual(Array.from({ length: 13 }, (_, i) => `r${i + 1}`).sort());
  });
});
