import { randomUUID } from 'node:crypto';
import type { WireMessage } from '@switchyard/core';
import type { TransportDelivery } from '@switchyard/core/transport';
import type { Subscription } from 'rxjs';
import { AckNotCommittedError, type KafkaOptions, KafkaTransport } from '../src/index.ts';

/** The broker under test; the suite's global setup exports it, a developer may point it elsewhere. */
export const BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
export const URL_ = `kafka://${BROKERS}`;

/** Every topic and group a test file makes starts with this, so the file can sweep its own topics. */
export const filePrefix = `kafka-test.${randomUUID().slice(0, 6)}.`;

export function unique(prefix: string): string {
  return `${filePrefix}${prefix}-${randomUUID().slice(0, 8)}`;
}

/** `KAFKA_CLIENT=platformatic` runs the transport tests on the other driver. */
const CLIENT = process.env.KAFKA_CLIENT as KafkaOptions['client'] | undefined;

const open = new Set<KafkaTransport>();

export async function transport(options: KafkaOptions = {}): Promise<KafkaTransport> {
  const t = new KafkaTransport(URL_, {
    sessionTimeoutMs: 6_000,
    ...(CLIENT ? { client: CLIENT } : {}),
    ...options,
  });
  open.add(t);
  await t.connect();
  return t;
}

export async function closeAll(): Promise<void> {
  await Promise.all([...open].map((t) => t.close()));
  open.clear();
}

export function wire(body: string, key?: string, extra: Record<string, string> = {}): WireMessage {
  return {
    headers: { specversion: '1.0', id: randomUUID(), source: 'kafka-test', type: 'test.event', ...extra },
    body: new TextEncoder().encode(body),
    key,
  };
}

export const text = (d: TransportDelivery): string => new TextDecoder().decode(d.message.body);

/**
 * Settle `d` without awaiting it, from a handler that cannot. An ack or nack whose partition moved
 * to another member first rejects with AckNotCommittedError: the record is redelivered there,
 * which is what a rebalance test expects, so only that is let through; anything else stays an
 * unhandled rejection that fails the run.
 */
export function settle(d: TransportDelivery, how: 'ack' | 'nack' = 'ack'): void {
  (how === 'ack' ? d.ack() : d.nack()).catch((error: unknown) => {
    if (!(error instanceof AckNotCommittedError)) throw error;
  });
}

export interface Collector {
  readonly deliveries: TransportDelivery[];
  readonly subscription: Subscription;
  readonly errors: Error[];
}

export function collect(
  t: KafkaTransport,
  topic: string,
  group: string,
  options: {
    prefetch?: number;
    from?: 'latest' | 'earliest';
    onDelivery?: (d: TransportDelivery) => void;
  } = {},
): Collector {
  const deliveries: TransportDelivery[] = [];
  const errors: Error[] = [];
  const subscription = t
    .subscribe(topic, {
      group,
      prefetch: options.prefetch ?? 64,
      ...(options.from ? { from: options.from } : {}),
    })
    .subscribe({
      next: (d) => {
        deliveries.push(d);
        options.onDelivery?.(d);
      },
      error: (e: Error) => errors.push(e),
    });
  return { deliveries, subscription, errors };
}

/** Members of `group` as the broker sees them, once the group is stable (not mid-rebalance). */
export async function stableMembers(group: string): Promise<number> {
  const { Kafka, logLevel } = await import('kafkajs');
  const admin = new Kafka({ brokers: BROKERS.split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([group]);
    const described = groups[0];
    return described?.state === 'Stable' ? described.members.length : -1;
  } finally {
    await admin.disconnect();
  }
}

export async function untilMembers(group: string, count: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await stableMembers(group)) !== count) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${count} members in ${group}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
