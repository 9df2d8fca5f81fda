import { backoffSequence, type Delivery, handle, type Outcome } from '@switchyard/core';
import type { Subscription } from 'rxjs';
import { expect } from 'vitest';
import { collect, sleep, until } from '../collect.ts';
import { numbered, publishInBatches } from '../events.ts';
import { uniqueName } from '../names.ts';
import { provideStore, type StoreKind } from '../stores/durable-stores.ts';
import type { Case } from './case.ts';

const STORE_NAMES: Record<StoreKind, string> = {
  memory: 'memory store',
  pg: 'PostgreSQL store',
  redis: 'Redis store',
};

export const settlementCases: Case[] = [
  {
    id: 'nack',
    title: 'nack: the first 2 of 100 nacked once → all 100 acked, those 2 with attempt ≥ 2',
    async run({ bus }) {
      const b = await bus();
      const topic = uniqueName('nack');
      await b.provision(topic, { groups: ['g'] });
      const sent = await b.publishBatch(topic, numbered(100));
      const nacked = new Set([sent[0]!.id, sent[1]!.id]);
      const ackedAt = new Map<string, number>();
      const nackedOnce = new Set<string>();
      await collect(b.consume(topic, { group: 'g' }), {
        stopWhen: () => ackedAt.size >= 100,
        onDelivery: async (d) => {
          const id = d.event!.id;
          if (nacked.has(id) && !nackedOnce.has(id)) {
            nackedOnce.add(id);
            await d.nack();
            return;
          }
          await d.ack();
          ackedAt.set(id, d.attempt);
        },
      });
      expect(ackedAt.size).toBe(100);
      for (const id of nacked) expect(ackedAt.get(id)).toBeGreaterThanOrEqual(2);
    },
  },
  {
    id: 'nack-delay',
    title: 'nack with 2 s delay → redelivered between 2 s and 5 s later',
    async run({ bus, note }) {
      const b = await bus();
      const topic = uniqueName('delay');
      await b.provision(topic, { groups: ['g'] });
      await b.publish(topic, { type: 'delayed', data: 1 });
      const times: number[] = [];
      await collect(b.consume(topic, { group: 'g' }), {
        stopWhen: () => times.length >= 2,
        idleMs: 500,
        timeoutMs: 30_000,
        onDelivery: async (d) => {
          times.push(performance.now());
          await (times.length === 1 ? d.nack({ delayMs: 2_000 }) : d.ack());
        },
      });
      expect(times).toHaveLength(2);
      const gap = times[1]! - times[0]!;
      note('redeliveredAfterMs', Math.round(gap));
      expect(gap).toBeGreaterThanOrEqual(2_000);
      expect(gap).toBeLessThanOrEqual(5_000);
    },
  },
  {
    id: 'retry-backoff',
    title:
      'retry: a handler that always throws, backoff 100, 200 ms → exactly 3 attempts, gaps ≥ intervals, 1 dead letter with reason; source empty after',
    async run({ bus }) {
      const b = await bus();
      const topic = uniqueName('retry');
      const dlq = `${topic}.dlq`;
      await b.provision(topic, { groups: ['g'] });
      await b.provision(dlq, { groups: ['ops'] });
      const attempts: number[] = [];
      const outcomes: Outcome[] = [];
      const done = new Promise<void>((resolve) => {
        const sub: Subscription = b
          .consume(topic, { group: 'g' })
          .pipe(
            handle(
              () => {
                attempts.push(performance.now());
                throw new Error('boom: always fails');
              },
              { retry: { maxAttempts: 3, backoff: backoffSequence(100, 200) }, deadLetter: { topic: dlq } },
            ),
          )
          .subscribe((o) => {
            outcomes.push(o);
            if (o.kind === 'deadLettered') {
              sub.unsubscribe();
              resolve();
            }
          });
      });
      const sent = await b.publish(topic, { type: 'doomed', data: { x: 1 }, key: 'k' });
      await done;
      expect(attempts).toHaveLength(3);
      // Timers may fire up to 1 ms early by rounding.
      expect(attempts[1]! - attempts[0]!).toBeGreaterThanOrEqual(99);
      expect(attempts[2]! - attempts[1]!).toBeGreaterThanOrEqual(199);
      expect(outcomes.map((o) => o.kind)).toEqual(['retrying', 'retrying', 'deadLettered']);
      const dead = await collect(b.consume(dlq, { group: 'ops' }), { count: 1 });
      expect(dead.ids).toEqual([sent.id]);
      const letter = dead.deliveries[0]!.event!;
      expect(letter.data).toEqual({ x: 1 });
      expect(letter.extensions).toMatchObject({
        deadletterattempts: '3',
        deadlettertopic: topic,
        deadlettergroup: 'g',
      });
      expect(letter.extensions.deadletterreason).toContain('boom: always fails');
      const rest = await collect(b.consume(topic, { group: 'g' }), { idleMs: 2_000 });
      expect(rest.ids).toEqual([]);
    },
  },
  {
    id: 'poison',
    title:
      'poison: raw bytes from a foreign producer → 1 rejected outcome, dead-lettered with the reason; the next 10 valid events are processed',
    async run({ target, bus }) {
      const b = await bus();
      const topic = uniqueName('poison');
      const dlq = `${topic}.dlq`;
      await b.provision(topic, { groups: ['g'] });
      await b.provision(dlq, { groups: ['ops'] });
      const outcomes: Outcome[] = [];
      const handled: number[] = [];
      const sub = b
        .consume<{ n: number }>(topic, { group: 'g' })
        .pipe(handle((event) => void handled.push(event.data.n), { deadLetter: { topic: dlq } }))
        .subscribe((o) => outcomes.push(o));
      const poison = new TextEncoder().encode('{"this is": not an event');
      await target.injectRaw(topic, poison);
      await until(() => outcomes.length >= 1, 30_000, 'the poison message was not seen');
      await publishInBatches(b, topic, numbered(10));
      await until(() => handled.length >= 10, 30_000, 'valid events after the poison were not handled');
      sub.unsubscribe();
      expect(outcomes.filter((o) => o.kind === 'rejected')).toHaveLength(1);
      expect(handled.sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      const dead = await collect(b.consume(dlq, { group: 'ops' }), { count: 1 });
      const letter: Delivery = dead.deliveries[0]!;
      expect(Buffer.from(letter.message.body).equals(Buffer.from(poison))).toBe(true);
      expect(letter.message.headers.deadletterreason).toMatch(/rejected/);
      expect(letter.message.headers.deadlettergroup).toBe('g');
    },
  },
  {
    id: 'unknown-specversion',
    title:
      'unknown specversion: an event with specversion 9.9 → 1 rejected outcome, dead-lettered with a reason naming it; the next 3 valid events are processed',
    async run({ bus }) {
      const b = await bus();
      const topic = uniqueName('specversion');
      const dlq = `${topic}.dlq`;
      await b.provision(topic, { groups: ['g'] });
      await b.provision(dlq, { groups: ['ops'] });
      const outcomes: Outcome[] = [];
      const handled: number[] = [];
      const sub = b
        .consume<{ n: number }>(topic, { group: 'g' })
        .pipe(handle((event) => void handled.push(event.data.n), { deadLetter: { topic: dlq } }))
        .subscribe((o) => outcomes.push(o));
      // publishWire writes the attributes as given through the transport's binding, as a producer
      // speaking a later CloudEvents version would put them on the wire: only specversion differs.
      const body = new TextEncoder().encode('{"n":-1}');
      await b.publishWire(topic, [
        {
          headers: {
            specversion: '9.9',
            id: 'future-1',
            source: 'conformance',
            type: 'future',
            datacontenttype: 'application/json',
          },
          body,
        },
      ]);
      await until(() => outcomes.length >= 1, 30_000, 'the 9.9 event was not seen');
      await publishInBatches(b, topic, numbered(3));
      await until(() => handled.length >= 3, 30_000, 'valid events after the 9.9 one were not handled');
      sub.unsubscribe();
      expect(outcomes.map((o) => o.kind).filter((kind) => kind !== 'acked')).toEqual(['rejected']);
      expect(handled.sort((x, y) => x - y)).toEqual([0, 1, 2]);
      const dead = await collect(b.consume(dlq, { group: 'ops' }), { count: 1 });
      const letter: Delivery = dead.deliveries[0]!;
      expect(letter.message.headers.specversion).toBe('9.9');
      expect(letter.message.headers.id).toBe('future-1');
      expect(Buffer.from(letter.message.body).equals(Buffer.from(body))).toBe(true);
      expect(letter.message.headers.deadletterreason).toMatch(/rejected.*specversion '9\.9'/);
    },
  },
  idempotencyCase('memory'),
  idempotencyCase('pg'),
  idempotencyCase('redis'),
];

/** The broker idempotency case with one store kind: matrix rows idempotency, idempotency-pg, idempotency-redis. */
function idempotencyCase(kind: StoreKind): Case {
  return {
    id: kind === 'memory' ? 'idempotency' : `idempotency-${kind}`,
    title: `idempotency (${STORE_NAMES[kind]}): the same id published twice plus a forced redelivery → side effect once; a failed first attempt is processed on redelivery`,
    async run({ bus, defer }) {
      const { store, dispose } = await provideStore(kind);
      defer(dispose);
      const b = await bus();
      const topic = uniqueName('idem');
      await b.provision(topic, { groups: ['g'] });
      const effects = new Map<string, number>();
      let failedOnce = false;
      const outcomes$ = b.consume<{ name: string }>(topic, { group: 'g' }).pipe(
        handle(
          (event) => {
            if (event.data.name === 'flaky' && !failedOnce) {
              failedOnce = true;
              throw new Error('first attempt fails');
            }
            effects.set(event.data.name, (effects.get(event.data.name) ?? 0) + 1);
          },
          {
            concurrency: 4,
            idempotency: { store },
            // Delays over inProcessMaxDelayMs go through the broker: a real redelivery.
            retry: { maxAttempts: 3, backoff: backoffSequence(50), inProcessMaxDelayMs: 0 },
          },
        ),
      );
      const kinds: string[] = [];
      const sub = outcomes$.subscribe((o) =>
        kinds.push(`${o.kind}:${(o.event!.data as { name: string }).name}`),
      );
      const twice = await b.publish(topic, { type: 'idem', data: { name: 'twice' } });
      await b.publish(topic, { type: 'idem', id: twice.id, data: { name: 'twice' } });
      await b.publish(topic, { type: 'idem', data: { name: 'flaky' } });
      await until(
        () => kinds.includes('acked:flaky') && kinds.includes('acked:twice'),
        30_000,
        'events not processed',
      );
      // Some brokers drop the second publish of an id themselves; either way nothing may run twice.
      await sleep(1_500);
      sub.unsubscribe();
      expect(effects.get('twice')).toBe(1);
      expect(effects.get('flaky')).toBe(1);
      expect(kinds).toContain('retrying:flaky');
      expect(kinds).toContain('acked:flaky');
    },
  };
}
