// An ack that moves a partition's commit point resolves only once a commit of that offset went
// through: a failed commit keeps it waiting for the retry, and a partition lost before any commit
// succeeded rejects it (the group hands the record out again). No broker: a fake GroupConsumer.
import type { TransportDelivery, WireMessage } from '@switchyard/core/transport';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ConsumerHandlers, FetchedBatch, GroupConsumer, KafkaClient } from '../src/client.ts';
import { KafkaMember } from '../src/consumer.ts';
import { AckNotCommittedError } from '../src/errors.ts';
import { resolveOptions } from '../src/options.ts';
import type { Provisioner } from '../src/topology.ts';

class FakeGroupConsumer implements GroupConsumer {
  /** Offsets of each commit call, failed ones included. */
  readonly commits: Array<ReadonlyArray<{ partition: number; offset: number }>> = [];
  /** How many of the next commit calls fail. */
  failNext = 0;
  readonly handlers: ConsumerHandlers;
  constructor(handlers: ConsumerHandlers) {
    this.handlers = handlers;
  }
  async connect() {}
  async run() {}
  pause() {}
  resume() {}
  async commit(offsets: ReadonlyArray<{ partition: number; offset: number }>) {
    this.commits.push(offsets);
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('The group is rebalancing, so a rejoin is needed');
    }
  }
  gateRejoin() {
    return () => {};
  }
  async disconnect() {}
}

function batch(partition: number, offsets: readonly number[]): FetchedBatch {
  return {
    partition,
    size: offsets.length,
    offset: (index) => offsets[index]!,
    message: (index) =>
      ({ body: new TextEncoder().encode(String(offsets[index])), headers: {} }) as WireMessage,
    end: offsets[offsets.length - 1]! + 1,
    taken: () => {},
    isRunning: () => true,
    isStale: () => false,
    heartbeat: async () => {},
  };
}

/** A member on a fake client; it joins with partition 0 and gets one batch of offsets 0..2. */
async function member() {
  const consumers: FakeGroupConsumer[] = [];
  const client: KafkaClient = {
    consumer: (_spec, handlers) => {
      const c = new FakeGroupConsumer(handlers);
      consumers.push(c);
      return c;
    },
    brokerAway: () => false,
    producer: () => Promise.reject(new Error('not used')),
    admin: () => {
      throw new Error('not used');
    },
  };
  const provisioner = {
    ensureTopic: async () => {},
    positionGroup: async () => {},
  } as unknown as Provisioner;
  const delivered: TransportDelivery[] = [];
  const fail = vi.fn();
  const options = resolveOptions('kafka://127.0.0.1:9');
  const m = new KafkaMember({
    client,
    provisioner,
    options,
    secrets: [],
    topic: 't',
    group: 'g',
    prefetch: 8,
    from: 'latest',
    since: Date.now(),
    deliver: (d) => delivered.push(d),
    fail,
  });
  await m.start();
  const consumer = consumers[0]!;
  consumer.handlers.onJoin('m-1', [0]);
  await consumer.handlers.onBatch(batch(0, [0, 1, 2]));
  expect(delivered).toHaveLength(3);
  return { m, consumer, delivered, fail };
}

/** Where `promise` stands after the microtasks (and timers, when faked) run out. */
async function state(promise: Promise<void>): Promise<'pending' | 'resolved' | 'rejected'> {
  let result: 'pending' | 'resolved' | 'rejected' = 'pending';
  promise.then(
    () => {
      result = 'resolved';
    },
    () => {
      result = 'rejected';
    },
  );
  await vi.advanceTimersByTimeAsync(0);
  return result;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('KafkaMember: ack() and the commit of its offset', () => {
  it('resolves once the commit is done', async () => {
    vi.useFakeTimers();
    const { m, consumer, delivered } = await member();
    const ack = delivered[0]!.ack();
    expect(await state(ack)).toBe('resolved');
    expect(consumer.commits).toEqual([[{ partition: 0, offset: 1 }]]);
    await m.stop(0);
  });

  it('stays pending while the commit fails, and resolves after the retry commits', async () => {
    vi.useFakeTimers();
    const { m, consumer, delivered } = await member();
    consumer.failNext = 1;
    const ack = delivered[0]!.ack();
    expect(await state(ack)).toBe('pending');
    expect(consumer.commits).toHaveLength(1);
    // An ack behind nothing unsettled, made while the first commit's acks still wait: one retry covers both.
    const second = delivered[1]!.ack();
    await vi.advanceTimersByTimeAsync(0);
    expect(consumer.commits.at(-1)).toEqual([{ partition: 0, offset: 2 }]);
    expect(await state(ack)).toBe('resolved');
    expect(await state(second)).toBe('resolved');
    await m.stop(0);
  });

  it('stays pending across failed commits until the retry timer commits', async () => {
    vi.useFakeTimers();
    const { m, consumer, delivered } = await member();
    consumer.failNext = 1;
    const ack = delivered[0]!.ack();
    expect(await state(ack)).toBe('pending');
    await vi.advanceTimersByTimeAsync(999);
    expect(await state(ack)).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(consumer.commits).toEqual([[{ partition: 0, offset: 1 }], [{ partition: 0, offset: 1 }]]);
    expect(await state(ack)).toBe('resolved');
    await m.stop(0);
  });

  it('rejects with AckNotCommittedError when the partition is reassigned before a commit went through', async () => {
    vi.useFakeTimers();
    const { m, consumer, delivered } = await member();
    consumer.failNext = 1;
    const ack = delivered[0]!.ack();
    expect(await state(ack)).toBe('pending');
    consumer.handlers.onJoin('m-1', [1]);
    await expect(ack).rejects.toBeInstanceOf(AckNotCommittedError);
    await expect(ack).rejects.toThrow(/ack of t\[0\] not committed: the partition was reassigned/);
    // The retry commits nothing of a partition no longer held.
    await vi.advanceTimersByTimeAsync(1_000);
    expect(consumer.commits).toHaveLength(1);
    await m.stop(0);
  });

  it('rejects when the member crashes, and when a commit still running then fails', async () => {
    vi.useFakeTimers();
    const { m, consumer, delivered } = await member();
    consumer.failNext = 1;
    const first = delivered[0]!.ack();
    expect(await state(first)).toBe('pending');
    // The second commit is under way when the crash drops the partition, and fails after it.
    let failCommit!: (error: Error) => void;
    consumer.commit = (offsets) => {
      consumer.commits.push(offsets);
      return new Promise((_, reject) => {
        failCommit = reject;
      });
    };
    const second = delivered[1]!.ack();
    await vi.advanceTimersByTimeAsync(0);
    expect(consumer.commits).toHaveLength(2);
    consumer.handlers.onCrash(new Error('restart'), true);
    failCommit(new Error('The coordinator is not aware of this member'));
    await expect(first).rejects.toThrow(/not committed: the member lost its place in the group/);
    await expect(second).rejects.toThrow(/not committed: the member lost its place in the group/);
    await m.stop(0);
  });

  it('rejects when the member stops and its last commit fails', async () => {
    vi.useFakeTimers();
    const { m, consumer, delivered } = await member();
    consumer.failNext = 2;
    const ack = delivered[0]!.ack();
    expect(await state(ack)).toBe('pending');
    await m.stop(0);
    await expect(ack).rejects.toThrow(/ack of t\[0\] not committed: the member stopped/);
  });

  it('rejects an ack made after its partition was reassigned while the handler ran', async () => {
    vi.useFakeTimers();
    const { m, consumer, delivered } = await member();
    consumer.handlers.onJoin('m-1', [1]);
    await expect(delivered[0]!.ack()).rejects.toThrow(
      /ack of t\[0\] not committed: the member let go of the partition/,
    );
    expect(consumer.commits).toHaveLength(0);
    await m.stop(0);
  });

  it('an ack behind an unsettled record resolves at once, with nothing to commit', async () => {
    vi.useFakeTimers();
    const { m, consumer, delivered } = await member();
    expect(await state(delivered[1]!.ack())).toBe('resolved');
    expect(consumer.commits).toHaveLength(0);
    await m.stop(0);
  });
});
