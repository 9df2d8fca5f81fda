// What the outbox tests share: the brokers to relay into, a consumer that records what reached the
// broker, and writers that put events in the outbox inside their own transactions.
import { type BrokerName, runPrefix, sweepBroker, uniqueName } from '@switchyard/conformance';
import { type Bus, connect, type EventInput, type SwitchyardEvent } from '@switchyard/core';
import type { Subscription } from 'rxjs';
import type { PgOutbox, SqlPool } from '../src/index.ts';

export interface RelayTarget {
  readonly name: 'memory' | BrokerName;
  readonly url: string;
  /** The broker's address in the form of its env var, for the sweep. */
  readonly sweepUrl?: string;
}

// The workspace's global setup exports these; the defaults are the brokers' usual local ports.
const kafka = process.env.KAFKA_BROKERS || '127.0.0.1:9092';
const amqp = process.env.AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672';
const sqs = process.env.SQS_ENDPOINT || 'http://127.0.0.1:4566';
const nats = process.env.NATS_URL || 'nats://127.0.0.1:4222';

export const TARGETS: readonly RelayTarget[] = [
  { name: 'memory', url: 'memory://outbox-test' },
  { name: 'kafka', url: `kafka://${kafka}`, sweepUrl: kafka },
  { name: 'rabbitmq', url: amqp, sweepUrl: amqp },
  { name: 'sqs', url: `sqs://?endpoint=${encodeURIComponent(sqs)}&region=us-east-1`, sweepUrl: sqs },
  { name: 'nats', url: nats, sweepUrl: nats },
];

/** Remove every topic this test file made on `target` (all start with the conformance runPrefix). */
export async function sweepTopics(target: RelayTarget, topics: readonly string[]): Promise<void> {
  if (!target.sweepUrl || target.name === 'memory') return;
  await sweepBroker(target.name, target.sweepUrl, {
    match: (topic) => topic.startsWith(runPrefix),
    topics,
  }).catch(() => {});
}

export const topicName = (what: string) => uniqueName(`outbox-${what}`);

/** Records every event that reached `topic`'s group `g`, in arrival order. */
export interface Received {
  readonly ids: string[];
  readonly events: SwitchyardEvent[];
  /** Per key: ids in arrival order. */
  readonly byKey: Map<string, string[]>;
  /** Distinct ids seen. */
  readonly distinct: Set<string>;
  stop(): void;
}

export async function receive(bus: Bus, topic: string, group = 'g'): Promise<Received> {
  // Provisioned before anything is written, so 'latest' (every broker's default) sees it all.
  await bus.provision(topic, { groups: [group] });
  const ids: string[] = [];
  const events: SwitchyardEvent[] = [];
  const byKey = new Map<string, string[]>();
  const distinct = new Set<string>();
  const subscription: Subscription = bus.consume(topic, { group, prefetch: 1_000 }).subscribe((delivery) => {
    if (delivery.event) {
      const { id, key } = delivery.event;
      ids.push(id);
      events.push(delivery.event);
      distinct.add(id);
      if (key !== undefined) {
        let list = byKey.get(key);
        if (!list) {
          list = [];
          byKey.set(key, list);
        }
        list.push(id);
      }
    }
    // Kafka rejects an ack whose offset it could not commit before the member lost the partition
    // (here: the last commit of `stop()` failing); the record comes again, which is all this reader sees.
    delivery.ack().catch(() => {});
  });
  return { ids, events, byKey, distinct, stop: () => subscription.unsubscribe() };
}

export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string) {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Run `work` in a transaction on its own connection; commit, or roll back on a throw. */
export async function inTx<R>(pool: SqlPool, work: (tx: SqlPool) => Promise<R>): Promise<R> {
  const conn = await pool.connect();
  // A checked-out pg client whose server goes away (the restart case) emits 'error'; the query
  // that fails says what happened, so the event itself is only kept from crashing the worker.
  const onError = () => {};
  const events = conn as unknown as {
    on?(e: 'error', f: () => void): void;
    off?(e: 'error', f: () => void): void;
  };
  events.on?.('error', onError);
  try {
    await conn.query('begin');
    const result = await work(conn as unknown as SqlPool);
    await conn.query('commit');
    events.off?.('error', onError);
    conn.release();
    return result;
  } catch (error) {
    await conn.query('rollback').catch(() => {});
    conn.release(true);
    throw error;
  }
}

/**
 * `writers` concurrent writers put `total` events on `topic` in transactions of `perTx`, each
 * event's key one of `keys` and its data `{ key, n }` with n counting per key; returns the
 * committed ids in per-key order.
 */
export async function writeEvents(
  pool: SqlPool,
  outbox: PgOutbox,
  topic: string,
  options: { total: number; perTx: number; writers: number; keys: number },
): Promise<{ ids: string[]; byKey: Map<string, string[]> }> {
  const ids: string[] = [];
  const byKey = new Map<string, string[]>();
  let next = 0;
  const writer = async (w: number) => {
    for (;;) {
      const start = next;
      if (start >= options.total) return;
      next = Math.min(options.total, start + options.perTx);
      // A writer owns its keys (key = w + writers × i), so per-key order is the writer's order.
      const inputs: EventInput[] = [];
      for (let i = start; i < next; i++) {
        const key = `k${w + options.writers * (i % Math.ceil(options.keys / options.writers))}`;
        inputs.push({ type: 'outbox.test', key, data: { key, i } });
      }
      const events = await inTx(pool, (tx) => outbox.publishBatch(tx, topic, inputs));
      for (const e of events) {
        ids.push(e.id);
        let list = byKey.get(e.key!);
        if (!list) {
          list = [];
          byKey.set(e.key!, list);
        }
        list.push(e.id);
      }
    }
  };
  await Promise.all(Array.from({ length: options.writers }, (_, w) => writer(w)));
  return { ids, byKey };
}

/** The ids of `received` for `key`, first arrivals only (a re-send is a duplicate by id). */
export function firstArrivals(received: readonly string[]): string[] {
  const seen = new Set<string>();
  return received.filter((id) => !seen.has(id) && seen.add(id));
}

export async function openBus(target: RelayTarget, source: string): Promise<Bus> {
  return connect({ url: target.url, source });
}
