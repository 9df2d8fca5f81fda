import type { EventInput } from '@switchyard/core';
import { expect } from 'vitest';
import { collect } from '../collect.ts';
import { numbered, publishInBatches } from '../events.ts';
import { uniqueName } from '../names.ts';
import type { Case } from './case.ts';

const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, i) => i);
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

function roundTripEvent(n: number): EventInput {
  const kinds = [
    { n, text: 'héllo ✓ "quoted"', nested: { list: [1, null, true] } },
    ALL_BYTES,
    new Uint8Array(0),
    undefined,
  ];
  return {
    type: `com.switchyard.conformance.kind${n % 4}`,
    data: kinds[n % 4],
    key: `key-${n % 7}`,
    subject: `subject/${n}`,
    correlationid: `corr-${n}`,
    causationid: `cause-${n}`,
    traceparent: TRACEPARENT,
    tracestate: 'vendor=value',
    dataschema: 'https://example.com/schema/v1',
    extensions: { custom: `value ${n}`, another: 'x' },
  };
}

export const deliveryCases: Case[] = [
  {
    id: 'capabilities',
    title: 'declared capabilities equal the transport’s own',
    async run({ target, bus }) {
      expect((await bus()).transport.capabilities).toEqual(target.capabilities);
    },
  },
  {
    id: 'round-trip',
    title:
      'round trip of 100 events: data (JSON, bytes 0x00–0xFF, empty, none), every attribute equal; close is prompt',
    async run({ bus, note }) {
      const b = await bus();
      const topic = uniqueName('rt');
      await b.provision(topic, { groups: ['g'] });
      const sent = await b.publishBatch(
        topic,
        Array.from({ length: 100 }, (_, n) => roundTripEvent(n)),
      );
      const got = await collect(b.consume(topic, { group: 'g' }), { count: 100 });
      expect(got.ids).toHaveLength(100);
      const byId = new Map(got.deliveries.map((d) => [d.event!.id, d.event!]));
      for (const event of sent) {
        const received = byId.get(event.id);
        expect(received, `event ${event.id} arrived`).toBeDefined();
        const { data, ...attributes } = received!;
        const { data: sentData, ...sentAttributes } = event;
        expect(attributes).toEqual(sentAttributes);
        if (sentData instanceof Uint8Array) {
          expect(data).toBeInstanceOf(Uint8Array);
          expect(Buffer.from(data as Uint8Array).equals(Buffer.from(sentData))).toBe(true);
        } else {
          expect(data).toEqual(sentData);
        }
      }
      const started = performance.now();
      await b.close({ drainTimeoutMs: 5_000 });
      const closeMs = performance.now() - started;
      note('closeMs', Math.round(closeMs));
      expect(closeMs).toBeLessThan(10_000);
    },
  },
  {
    id: 'topic-isolation',
    title:
      'topics are isolated: 2 topics cross nothing; 20 topics × 100 concurrent, each gets exactly its 100',
    timeoutMs: 240_000,
    async run({ bus }) {
      const b = await bus();
      const topics = Array.from({ length: 20 }, (_, i) => uniqueName(`iso${i}`));
      await Promise.all(topics.map((t) => b.provision(t, { groups: ['g'] })));
      await Promise.all(topics.map((t) => publishInBatches(b, t, numbered(100, { run: t }))));
      const results = await Promise.all(
        topics.map((t) => collect(b.consume(t, { group: 'g' }), { count: 100 })),
      );
      results.forEach((got, i) => {
        expect(got.ids, `topic ${i}`).toHaveLength(100);
        expect(got.deliveries.every((d) => (d.event!.data as { run: string }).run === topics[i])).toBe(true);
      });
    },
  },
  {
    id: 'volume',
    title: 'volume: 10 000 events from 20 concurrent publishers all arrive, none lost',
    timeoutMs: 300_000,
    async run({ bus, note }) {
      const publisher = await bus();
      const consumer = await bus();
      const topic = uniqueName('vol');
      await publisher.provision(topic, { groups: ['g'] });
      const started = performance.now();
      await Promise.all(
        Array.from({ length: 20 }, (_, p) =>
          publishInBatches(publisher, topic, numbered(500, { run: `p${p}` }), 50),
        ),
      );
      note('publishMs', Math.round(performance.now() - started));
      const got = await collect(consumer.consume(topic, { group: 'g', prefetch: 500 }), {
        count: 10_000,
        timeoutMs: 240_000,
      });
      note('totalMs', Math.round(performance.now() - started));
      expect(got.ids).toHaveLength(10_000);
    },
  },
];
