// Small test helpers: conditions instead of sleeps, deferreds, a transport that counts settles.
import { Observable } from 'rxjs';
import { Bus } from '../src/bus.ts';
import type { EventInput } from '../src/event.ts';
import { MemoryTransport } from '../src/memory/transport.ts';
import type { Transport, TransportDelivery } from '../src/transport.ts';

let counter = 0;
/** A memory:// name no other test uses (the broker is process-wide per name). */
export const uniqueName = (prefix = 't') => `${prefix}-${process.pid}-${Date.now()}-${counter++}`;

/** Resolve once `condition()` holds; fail after `timeoutMs` with `what`. Polls on macrotasks. */
export async function waitFor(
  condition: () => boolean,
  what = 'condition',
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Let pending microtasks and a few macrotask turns run. */
export async function turns(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

export interface Deferred<T = void> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export interface SettleRecord {
  readonly topic: string;
  readonly delivery: TransportDelivery;
  readonly calls: Array<'ack' | 'nack'>;
  readonly delays: Array<number | undefined>;
}

/**
 * A memory transport whose deliveries record every ack/nack that reaches the transport, so a test
 * can check that each delivery was settled exactly once.
 */
export function countingTransport(name: string): { transport: Transport; records: SettleRecord[] } {
  const records: SettleRecord[] = [];
  const transport = wrappedTransport(name, (raw, topic) => {
    const record: SettleRecord = { topic, delivery: raw, calls: [], delays: [] };
    records.push(record);
    return {
      message: raw.message,
      attempt: raw.attempt,
      ack: () => {
        record.calls.push('ack');
        return raw.ack();
      },
      nack: (o) => {
        record.calls.push('nack');
        record.delays.push(o?.delayMs);
        return raw.nack(o);
      },
    };
  });
  return { transport, records };
}

/** A memory transport whose deliveries pass through `wrap`: to record, slow down or fail their settles. */
export function wrappedTransport(
  name: string,
  wrap: (raw: TransportDelivery, topic: string) => TransportDelivery,
): Transport {
  const inner = new MemoryTransport(name);
  return {
    name: inner.name,
    capabilities: inner.capabilities,
    publish: (topic, messages) => inner.publish(topic, messages),
    provision: (topic, group, from) => inner.provision(topic, group, from),
    close: () => inner.close(),
    subscribe: (topic, options) =>
      new Observable<TransportDelivery>((subscriber) =>
        inner.subscribe(topic, options).subscribe({
          next: (raw) => subscriber.next(wrap(raw, topic)),
          error: (e) => subscriber.error(e),
          complete: () => subscriber.complete(),
        }),
      ),
  };
}

/** A bus on a memory:// of its own whose topic 'orders' holds `input`, waiting for group 'g'. */
export async function busHolding(input: EventInput<unknown>): Promise<Bus> {
  const bus = new Bus(new MemoryTransport(uniqueName('holding')), { source: 't' });
  await bus.provision('orders', { groups: ['g'] });
  await bus.publish('orders', input);
  return bus;
}

export function countingBus(prefix = 'bus'): { bus: Bus; records: SettleRecord[]; name: string } {
  const name = uniqueName(prefix);
  const { transport, records } = countingTransport(name);
  return { bus: new Bus(transport, { source: 'test' }), records, name };
}

/** Deterministic PRNG (mulberry32) so a failing random run can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
