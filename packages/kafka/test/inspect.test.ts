import { until } from '@switchyard/conformance';
import { NotFoundError } from '@switchyard/core';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { BROKERS, closeAll, collect, filePrefix, transport, unique, wire } from './helpers.ts';
import { sweep } from './sweep.ts';

afterEach(async () => {
  await closeAll();
});

afterAll(async () => {
  await closeAll();
  await sweep(filePrefix);
});

/** Move the log start of every partition of `topic` to `offset`, as retention would. */
async function deleteRecordsBefore(topic: string, offset: number): Promise<void> {
  const admin = new Kafka({ brokers: BROKERS.split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    // kafkajs finds the partition leaders from metadata it must have loaded first.
    await admin.fetchTopicMetadata({ topics: [topic] });
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: String(offset) }] });
  } finally {
    await admin.disconnect();
  }
}

describe('KafkaTransport.inspect', () => {
  it('counts from the log start, not 0, where the group has no committed offset or one retention deleted', async () => {
    const t = await transport({ partitions: 1 });
    const topic = unique('inspect-start');
    const behind = unique('behind');
    await t.provision(topic);
    // Committed at offset 0 before anything is deleted.
    await t.provision(topic, behind, 'earliest');
    await t.publish(
      topic,
      Array.from({ length: 10 }, (_, i) => wire(`m${i}`)),
    );
    await deleteRecordsBefore(topic, 4);

    const never = await t.inspect(topic, unique('never'));
    expect(never).toMatchObject({ backlog: 6, position: '4', consumers: 0, inFlight: 0 });
    const committedBelowStart = await t.inspect(topic, behind);
    expect(committedBelowStart).toMatchObject({ backlog: 6, position: '4' });
  });

  it('with a committed offset: end − committed, summed over partitions; position the sum of committed offsets', async () => {
    const t = await transport({ partitions: 3 });
    const topic = unique('inspect-committed');
    const group = unique('g');
    await t.provision(topic, group);
    await t.publish(
      topic,
      Array.from({ length: 12 }, (_, i) => wire(`m${i}`, `key-${i}`)),
    );
    expect(await t.inspect(topic, group)).toMatchObject({ backlog: 12, position: '0', consumers: 0 });
  });

  it('in flight: what this process’s member holds unsettled, with the member counted', async () => {
    const t = await transport({ partitions: 1 });
    const topic = unique('inspect-held');
    const group = unique('g');
    await t.provision(topic, group);
    await t.publish(
      topic,
      Array.from({ length: 5 }, (_, i) => wire(`m${i}`)),
    );
    const member = collect(t, topic, group, { prefetch: 2 });
    await until(() => member.deliveries.length === 2, 30_000, 'two deliveries');
    let held = await t.inspect(topic, group);
    const deadline = Date.now() + 30_000;
    while (held.inFlight === null && Date.now() < deadline) held = await t.inspect(topic, group);
    expect(held).toMatchObject({ backlog: 5, consumers: 1 });
    // Fetched and unsettled: at least the two handed out, at most all five (fetched ahead).
    expect(held.inFlight).toBeGreaterThanOrEqual(2);
    expect(held.inFlight).toBeLessThanOrEqual(5);
    // Another process's transport sees the member but not what it holds.
    const other = await transport();
    expect(await other.inspect(topic, group)).toMatchObject({ backlog: 5, consumers: 1, inFlight: null });
    // Left to close(), which gives back what the member holds without waiting for it.
  });

  it('a topic that does not exist is a NotFoundError, at once', async () => {
    const t = await transport();
    const started = Date.now();
    await expect(t.inspect(unique('missing'), 'g')).rejects.toBeInstanceOf(NotFoundError);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
