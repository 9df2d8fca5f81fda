// A kafkajs consumer that crashes "for good" over a broker that is away (a broker restart) is
// replaced by the member, not reported as the end of the subscription. No broker needed.
import { EventEmitter } from 'node:events';
import type { Kafka } from 'kafkajs';
import { KafkaJSConnectionError, KafkaJSGroupCoordinatorNotFound, KafkaJSNonRetriableError } from 'kafkajs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { brokerAway, KafkaMember } from '../src/consumer.ts';
import { KafkajsClient } from '../src/kafkajs-client.ts';
import { resolveOptions } from '../src/options.ts';
import type { Provisioner } from '../src/topology.ts';

const EVENTS = { GROUP_JOIN: 'join', REBALANCING: 'rebalancing', CRASH: 'crash' } as const;

class FakeConsumer {
  readonly events = EVENTS;
  readonly emitter = new EventEmitter();
  connectFails: Error | undefined;
  running = false;
  disconnected = false;
  on(event: string, listener: (e: unknown) => void) {
    this.emitter.on(event, listener);
  }
  async connect() {
    if (this.connectFails) throw this.connectFails;
  }
  async subscribe() {}
  async run() {
    this.running = true;
  }
  async disconnect() {
    this.disconnected = true;
  }
  pause() {}
  resume() {}
  async commitOffsets() {}
  /** What kafkajs does when it gives up: it has stopped and disconnected itself, then emits CRASH. */
  crash(error: Error, restart: boolean) {
    this.running = false;
    this.disconnected = true;
    this.emitter.emit('crash', { payload: { error, restart } });
  }
}

function member(nextConsumer?: (n: number) => FakeConsumer) {
  const consumers: FakeConsumer[] = [];
  const kafka = {
    consumer: () => {
      const c = nextConsumer?.(consumers.length) ?? new FakeConsumer();
      consumers.push(c);
      return c;
    },
  } as unknown as Kafka;
  const provisioner = {
    ensureTopic: async () => {},
    positionGroup: async () => {},
  } as unknown as Provisioner;
  const fail = vi.fn();
  const options = resolveOptions('kafka://127.0.0.1:9');
  const m = new KafkaMember({
    client: new KafkajsClient(kafka, options),
    provisioner,
    options,
    secrets: [],
    topic: 't',
    group: 'g',
    prefetch: 8,
    from: 'latest',
    since: Date.now(),
    deliver: () => {},
    fail,
  });
  return { m, consumers, fail };
}

/** kafkajs's retrier wraps what it gives up on with the original as `cause`. */
const wrapped = (inner: Error) => Object.assign(new KafkaJSNonRetriableError(inner), { cause: inner });

/** What a (re)join ends in when its FindCoordinator request loses the connection. */
const coordinatorNotFound = () =>
  new (KafkaJSGroupCoordinatorNotFound as unknown as new (message: string) => Error)(
    'Failed to find group coordinator',
  );

afterEach(() => {
  vi.useRealTimers();
});

describe('KafkaMember after a consumer crash kafkajs does not restart from', () => {
  it('classifies an unreachable broker or coordinator as "away", anything else not', () => {
    expect(brokerAway(coordinatorNotFound())).toBe(true);
    expect(brokerAway(wrapped(coordinatorNotFound()))).toBe(true);
    expect(brokerAway(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED'))).toBe(true);
    const denied = Object.assign(new Error('Not authorized to access group'), {
      name: 'KafkaJSProtocolError',
      type: 'GROUP_AUTHORIZATION_FAILED',
      retriable: false,
    });
    expect(brokerAway(wrapped(denied))).toBe(false);
  });

  it('starts a new consumer when the broker was away, and keeps the subscription', async () => {
    vi.useFakeTimers();
    const { m, consumers, fail } = member();
    await m.start();
    expect(consumers).toHaveLength(1);
    consumers[0]!.crash(coordinatorNotFound(), false);
    await vi.advanceTimersByTimeAsync(400);
    expect(fail).not.toHaveBeenCalled();
    expect(consumers).toHaveLength(2);
    expect(consumers[1]!.running).toBe(true);
    await m.stop(0);
    expect(consumers[1]!.disconnected).toBe(true);
  });

  it('keeps trying, with backoff, while the broker still refuses connections', async () => {
    vi.useFakeTimers();
    const refused = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED');
    const { m, consumers, fail } = member((n) => {
      const c = new FakeConsumer();
      if (n === 1 || n === 2) c.connectFails = refused;
      return c;
    });
    await m.start();
    consumers[0]!.crash(coordinatorNotFound(), false);
    await vi.advanceTimersByTimeAsync(300 + 600 + 1_200 + 100);
    expect(fail).not.toHaveBeenCalled();
    expect(consumers).toHaveLength(4);
    expect(consumers[1]!.disconnected && consumers[2]!.disconnected).toBe(true);
    expect(consumers[3]!.running).toBe(true);
    await m.stop(0);
  });

  it('ends the subscription when the crash is not about an unreachable broker', async () => {
    const { m, consumers, fail } = member();
    await m.start();
    const denied = Object.assign(new Error('Not authorized to access group'), {
      name: 'KafkaJSProtocolError',
      type: 'GROUP_AUTHORIZATION_FAILED',
      retriable: false,
    });
    consumers[0]!.crash(wrapped(denied), false);
    expect(fail).toHaveBeenCalledOnce();
    expect(consumers).toHaveLength(1);
  });

  it('leaves a restart kafkajs does itself to kafkajs, and starts nothing once stopped', async () => {
    vi.useFakeTimers();
    const { m, consumers, fail } = member();
    await m.start();
    consumers[0]!.crash(new KafkaJSConnectionError('ECONNREFUSED'), true);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(consumers).toHaveLength(1);
    consumers[0]!.crash(coordinatorNotFound(), false);
    await m.stop(0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(consumers).toHaveLength(1);
    expect(fail).not.toHaveBeenCalled();
  });
});
