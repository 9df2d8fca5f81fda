import { randomUUID } from 'node:crypto';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { WireMessage } from '@switchyard/core';
import type { TransportDelivery } from '@switchyard/core/transport';
import type { Subscription } from 'rxjs';
import { vi } from 'vitest';
import { type NatsOptions, NatsTransport } from '../src/index.ts';
import { durableNameFor, streamNameFor } from '../src/names.ts';

export const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

/** Short leases so redelivery after a lost lease is observable within a test. */
export const TEST_OPTIONS: NatsOptions = { ackWaitMs: 2_000, pullExpiresMs: 2_000 };

/** Every name starts with `nats-test.`, so `pnpm brokers sweep` finds what an interrupted run left. */
export function unique(prefix: string): string {
  return `nats-test.${prefix}-${randomUUID().slice(0, 8)}`;
}

/** Opens transports and raw connections, and removes every stream a test created. */
export class Fixture {
  readonly #transports: NatsTransport[] = [];
  readonly #topics = new Set<string>();
  #raw: { nc: NatsConnection; jsm: JetStreamManager } | undefined;

  async transport(options: NatsOptions = {}, url = NATS_URL): Promise<NatsTransport> {
    const transport = await NatsTransport.create(new URL(url), { ...TEST_OPTIONS, ...options });
    this.#transports.push(transport);
    return transport;
  }

  topic(): string {
    const topic = unique('t');
    this.#topics.add(topic);
    return topic;
  }

  async raw(): Promise<{ nc: NatsConnection; jsm: JetStreamManager }> {
    if (this.#raw === undefined) {
      const nc = await connect({ servers: new URL(NATS_URL).host });
      this.#raw = { nc, jsm: await jetstreamManager(nc) };
    }
    return this.#raw;
  }

  async consumerInfo(topic: string, group: string) {
    const { jsm } = await this.raw();
    return jsm.consumers.info(streamNameFor('SWITCHYARD_', topic), durableNameFor(group));
  }

  async streamMessages(topic: string): Promise<number> {
    const { jsm } = await this.raw();
    return (await jsm.streams.info(streamNameFor('SWITCHYARD_', topic))).state.messages;
  }

  async close(): Promise<void> {
    await Promise.all(this.#transports.map((t) => t.close()));
    if (this.#topics.size > 0) {
      const { jsm } = await this.raw();
      for (const topic of this.#topics)
        await jsm.streams.delete(streamNameFor('SWITCHYARD_', topic)).catch(() => false);
    }
    await this.#raw?.nc.close();
  }
}

const encoder = new TextEncoder();

/** A message as core's codec would write it, with an id JetStream de-duplicates on. */
export function message(overrides: Partial<WireMessage> & { id?: string; data?: string } = {}): WireMessage {
  const id = overrides.id ?? randomUUID();
  return {
    headers: overrides.headers ?? {
      specversion: '1.0',
      id,
      source: 'nats-test',
      type: 'test.event',
      time: new Date().toISOString(),
      datacontenttype: 'application/json',
      correlationid: id,
      ...(overrides.key === undefined ? {} : { partitionkey: overrides.key }),
    },
    body: overrides.body ?? encoder.encode(JSON.stringify({ data: overrides.data ?? id })),
    key: overrides.key,
  };
}

/** Subscribes and records every delivery with the time it arrived. */
export class Collector {
  readonly deliveries: TransportDelivery[] = [];
  readonly times: number[] = [];
  error: unknown;
  completed = false;
  readonly #subscription: Subscription;
  readonly #settling: Promise<void>[] = [];

  constructor(
    transport: NatsTransport,
    topic: string,
    options: { group: string; prefetch?: number; from?: 'latest' | 'earliest' },
    onDelivery?: (delivery: TransportDelivery) => void | Promise<void>,
  ) {
    this.#subscription = transport.subscribe(topic, { prefetch: 64, ...options }).subscribe({
      next: (delivery) => {
        this.deliveries.push(delivery);
        this.times.push(Date.now());
        onDelivery?.(delivery);
      },
      error: (error) => {
        this.error = error;
      },
      complete: () => {
        this.completed = true;
      },
    });
  }

  /** Wait until at least `count` deliveries arrived. */
  async atLeast(count: number, timeout = 15_000): Promise<TransportDelivery[]> {
    await vi.waitFor(
      () => {
        if (this.error) throw this.error;
        if (this.deliveries.length < count)
          throw new Error(`${this.deliveries.length} of ${count} deliveries`);
      },
      { timeout, interval: 20 },
    );
    return this.deliveries;
  }

  /** Resolves when every settle returned by `onDelivery` so far resolved; rejects if one failed. */
  async settled(): Promise<void> {
    await Promise.all(this.#settling);
  }

  ids(): string[] {
    return this.deliveries.map((d) => d.message.headers.id ?? '');
  }

  unsubscribe(): void {
    this.#subscription.unsubscribe();
  }
}

/** Resolves once `condition` holds (polled), or fails after `timeout`. */
export function until(condition: () => boolean | Promise<boolean>, timeout = 15_000): Promise<void> {
  return vi.waitFor(
    async () => {
      if (!(await condition())) throw new Error('condition not met');
    },
    { timeout, interval: 20 },
  );
}
