// Options and edges on memory://: the producer as parent, batches, follow-ups and given trace
// contexts, no SDK at all, and the gauges.
import { context, SpanKind, trace } from '@opentelemetry/api';
import { uniqueName } from '@switchyard/conformance';
import { type Bus, connect, handle } from '@switchyard/core';
import { firstValueFrom, take, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ATTR, formatTraceparent, instrument, METRIC } from '../src/index.ts';
import { memorySdk, points, same } from './sdk.ts';

const TP = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

async function memoryBus(): Promise<Bus> {
  const bus = await connect({ url: `memory://${uniqueName('otel')}`, source: 'otel-test' });
  await bus.provision('orders', { groups: ['billing'] });
  await bus.provision('invoices', { groups: ['mail'] });
  return bus;
}

describe('@switchyard/otel options', () => {
  it("consumerParent 'producer': the process span is the send span's child, and still linked to it", async () => {
    const sdk = memorySdk();
    const bus = instrument(await memoryBus(), { ...sdk, consumerParent: 'producer' });
    const done = firstValueFrom(bus.consume('orders', { group: 'billing' }).pipe(handle(() => {})));
    await bus.publish('orders', { type: 'order', data: {} });
    await done;
    const send = sdk.spans().find((s) => s.name === 'send orders')!;
    const process = sdk.spans().find((s) => s.name === 'process orders')!;
    expect(same(process.parentSpanContext, send.spanContext())).toBe(true);
    expect(process.spanContext().traceId).toBe(send.spanContext().traceId);
    expect(same(process.links[0]?.context, send.spanContext())).toBe(true);
    await bus.close();
    await sdk.shutdown();
  });

  it('a batch is one send span; every event carries its context', async () => {
    const sdk = memorySdk();
    const bus = instrument(await memoryBus(), sdk);
    const events = await bus.publishBatch(
      'orders',
      ['a', 'b', 'c'].map((id) => ({ type: 'order', id, data: {} })),
    );
    const sends = sdk.spans().filter((s) => s.name === 'send orders');
    expect(sends).toHaveLength(1);
    expect(sends[0]!.kind).toBe(SpanKind.PRODUCER);
    expect(sends[0]!.attributes[ATTR.batchCount]).toBe(3);
    expect(sends[0]!.attributes[ATTR.messageId]).toBeUndefined();
    expect(new Set(events.map((e) => e.traceparent))).toEqual(
      new Set([formatTraceparent(sends[0]!.spanContext())]),
    );
    await bus.close();
    await sdk.shutdown();
  });

  it("a follow-up is sent under the process span, linked to its cause's creation context", async () => {
    const sdk = memorySdk();
    const bus = instrument(await memoryBus(), sdk);
    const done = firstValueFrom(
      bus.consume('orders', { group: 'billing' }).pipe(
        handle(async (_event, ctx) => {
          await ctx.publish('invoices', { type: 'invoice', data: {} });
        }),
      ),
    );
    const order = await bus.publish('orders', { type: 'order', data: {} });
    await done;
    const sendOrder = sdk.spans().find((s) => s.name === 'send orders')!;
    const process = sdk.spans().find((s) => s.name === 'process orders')!;
    const sendInvoice = sdk.spans().find((s) => s.name === 'send invoices')!;
    expect(same(sendInvoice.parentSpanContext, process.spanContext())).toBe(true);
    expect(sendInvoice.links.some((l) => same(l.context, sendOrder.spanContext()))).toBe(true);
    // The conversation goes on: the follow-up's conversation id is the order's.
    expect(sendInvoice.attributes[ATTR.conversationId]).toBe(order.correlationid);
    await bus.close();
    await sdk.shutdown();
  });

  it('a traceparent given by the publisher is kept as a link; the event carries the send span', async () => {
    const sdk = memorySdk();
    const bus = instrument(await memoryBus(), sdk);
    const sent = await bus.publish('orders', { type: 'order', data: {}, traceparent: TP, tracestate: 'k=v' });
    const send = sdk.spans().find((s) => s.name === 'send orders')!;
    expect(send.links.map((l) => l.context.spanId)).toEqual(['b7ad6b7169203331']);
    expect(send.links[0]!.context.traceState?.serialize()).toBe('k=v');
    expect(sent.traceparent).toBe(formatTraceparent(send.spanContext()));
    // The old tracestate belonged to the old context: it is not carried with the new one.
    expect(sent.tracestate).toBeUndefined();
    await bus.close();
    await sdk.shutdown();
  });

  it('a failed send is an ERROR span with error.type, counted with it', async () => {
    const sdk = memorySdk();
    const bus = instrument(await memoryBus(), sdk);
    const big = new Uint8Array(bus.transport.capabilities.maxMessageBytes + 1);
    await expect(bus.publish('orders', { type: 'order', data: big })).rejects.toThrow();
    const send = sdk.spans().find((s) => s.name === 'send orders')!;
    expect(send.status.code).toBe(2);
    expect(send.attributes[ATTR.errorType]).toBe('MessageTooLargeError');
    const metrics = await sdk.metrics();
    expect(points(metrics.get(METRIC.sent), { [ATTR.errorType]: 'MessageTooLargeError' })).toHaveLength(1);
    await bus.close();
    await sdk.shutdown();
  });

  it('with no SDK anywhere, nothing is written and nothing is in the way', async () => {
    // The global providers are the API's no-ops in this file (sdk.ts registers only a context manager).
    expect(trace.getTracer('probe').startSpan('probe').isRecording()).toBe(false);
    const bus = instrument(await memoryBus());
    expect(bus.instrumentation).toBeDefined();
    const outcomes = firstValueFrom(
      bus.consume('orders', { group: 'billing' }).pipe(
        handle(() => {
          expect(trace.getSpan(context.active())).toBeUndefined();
        }),
        take(2),
        toArray(),
      ),
    );
    const plain = await bus.publish('orders', { type: 'order', data: {} });
    const given = await bus.publish('orders', { type: 'order', data: {}, traceparent: TP });
    expect(plain.traceparent).toBeUndefined();
    expect(given.traceparent).toBe(TP);
    expect((await outcomes).map((o) => o.kind)).toEqual(['acked', 'acked']);
    await bus.close();
  });

  it('gauges: backlog, in flight, lag age and DLQ depth per group, as read; unknown figures left out', async () => {
    const sdk = memorySdk();
    let reads = 0;
    const bus = instrument(await memoryBus(), {
      ...sdk,
      gauges: {
        groups: [
          { topic: 'orders', group: 'billing' },
          { topic: 'invoices', group: 'mail' },
          { topic: 'broken', group: 'g' },
        ],
        read: async (topic) => {
          reads += 1;
          if (topic === 'broken') throw new Error('broker away');
          return topic === 'orders'
            ? { backlog: 7, inFlight: 2, oldestAgeMs: 1_500, deadLetters: 3 }
            : { backlog: 0, inFlight: null, oldestAgeMs: null, deadLetters: 0 };
        },
      },
    });
    const metrics = await sdk.metrics();
    const at = (name: string, topic: string) =>
      points(metrics.get(name), { [ATTR.destination]: topic, [ATTR.system]: 'memory' }).map((p) => p.value);
    expect(at(METRIC.backlog, 'orders')).toEqual([7]);
    expect(at(METRIC.inFlight, 'orders')).toEqual([2]);
    expect(at(METRIC.lagAge, 'orders')).toEqual([1.5]);
    expect(at(METRIC.dlqDepth, 'orders')).toEqual([3]);
    expect(at(METRIC.backlog, 'invoices')).toEqual([0]);
    expect(at(METRIC.inFlight, 'invoices')).toEqual([]);
    expect(at(METRIC.lagAge, 'invoices')).toEqual([]);
    expect(at(METRIC.backlog, 'broken')).toEqual([]);
    expect(
      points(metrics.get(METRIC.backlog), { [ATTR.destination]: 'orders' })[0]?.attributes[
        ATTR.consumerGroup
      ],
    ).toBe('billing');
    expect(metrics.get(METRIC.lagAge)?.descriptor.unit).toBe('s');
    expect(reads).toBe(3);
    // Instrumented again without gauges: the first call's stop.
    instrument(bus, sdk);
    await sdk.metrics();
    expect(reads).toBe(3);
    instrument(bus, {
      ...sdk,
      gauges: {
        groups: [{ topic: 'orders', group: 'billing' }],
        read: async () => {
          reads += 1;
          return { backlog: 1 };
        },
      },
    });
    await sdk.metrics();
    expect(reads).toBe(4);
    // A closed bus is not asked any more.
    await bus.close();
    await sdk.metrics();
    await sdk.metrics();
    expect(reads).toBe(4);
    await sdk.shutdown();
  });
});

describe('gauges from bus.inspect()', () => {
  it('backlog while the group is idle, then 0 and the DLQ depth after handle() dead-lettered one', async () => {
    const sdk = memorySdk();
    const bus = instrument(await memoryBus(), {
      ...sdk,
      gauges: { groups: [{ topic: 'orders', group: 'billing' }] },
    });
    const where = { [ATTR.destination]: 'orders', [ATTR.consumerGroup]: 'billing' };
    const value = async (name: string) => points((await sdk.metrics()).get(name), where)[0]?.value;
    await bus.publishBatch(
      'orders',
      ['a', 'b', 'poison'].map((id) => ({ type: 'order', id, data: { id } })),
    );
    expect(await value(METRIC.backlog)).toBe(3);
    const outcomes = firstValueFrom(
      bus.consume<{ id: string }>('orders', { group: 'billing' }).pipe(
        handle(
          (event) => {
            if (event.data.id === 'poison') throw new Error('poison');
          },
          { retry: { maxAttempts: 1 } },
        ),
        take(3),
        toArray(),
      ),
    );
    expect((await outcomes).map((o) => o.kind).sort()).toEqual(['acked', 'acked', 'deadLettered']);
    expect(await value(METRIC.backlog)).toBe(0);
    expect(await value(METRIC.dlqDepth)).toBe(1);
    await bus.close();
    await sdk.shutdown();
  });
});
