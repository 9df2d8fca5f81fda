// What one produce request carries. Records are sized by upper bounds that read no text when the
// whole publish surely fits one request, exactly otherwise: no request passes the budget, and no
// record is refused for its bound alone. No broker needed.
import { createEvent, MessageTooLargeError } from '@switchyard/core';
import { encode, encodedSizeBound, type WireMessage } from '@switchyard/core/transport';
import type { Message, Producer, TopicMessages } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { recordSize } from '../src/binding.ts';
import { Publisher } from '../src/publisher.ts';

class RecordingProducer {
  readonly requests: Message[][] = [];
  async sendBatch({ topicMessages }: { topicMessages: TopicMessages[] }) {
    this.requests.push(topicMessages.flatMap((t) => t.messages));
    return [];
  }
  async disconnect() {}
}

// ASCII JSON: its bound counts 3 bytes a character, three times what it takes.
const event = (chars: number): WireMessage =>
  encode(createEvent({ type: 't', data: { s: 'x'.repeat(chars) } }, 'test'));

function publisherWith(budget: number) {
  const producer = new RecordingProducer();
  const publisher = new Publisher(
    async () => producer as unknown as Producer,
    { maxMessageBytes: budget, budget },
    [],
  );
  return { producer, publisher };
}

describe('Publisher request sizes', () => {
  it('sends a record whose exact size is the budget, though its bound is over, and refuses one byte more', async () => {
    const fits = event(2_000);
    const budget = recordSize(fits);
    expect(recordSize(fits, encodedSizeBound(fits))).toBeGreaterThan(budget);
    const { producer, publisher } = publisherWith(budget);
    await publisher.publish('t', [fits]);
    expect(producer.requests.map((r) => r.length)).toEqual([1]);
    const over = event(2_001);
    const error = await publisher.publish('t', [over]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MessageTooLargeError);
    expect((error as MessageTooLargeError).size).toBe(recordSize(over));
    expect(producer.requests).toHaveLength(1);
  });

  it('fills requests to the budget by exact sizes when the bounds do not fit one', async () => {
    const messages = Array.from({ length: 10 }, () => event(1_000));
    const each = recordSize(messages[0]!);
    const { producer, publisher } = publisherWith(5 * each);
    await publisher.publish('t', messages);
    expect(producer.requests.map((r) => r.length)).toEqual([5, 5]);
  });

  it('sends what surely fits one request as one', async () => {
    const messages = Array.from({ length: 3 }, () => event(100));
    const bound = recordSize(messages[0]!, encodedSizeBound(messages[0]!));
    const { producer, publisher } = publisherWith(3 * bound);
    await publisher.publish('t', messages);
    expect(producer.requests.map((r) => r.length)).toEqual([3]);
  });
});
