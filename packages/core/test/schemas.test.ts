import { firstValueFrom, take, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { encode } from '../src/codec.ts';
import { connect } from '../src/connect.ts';
import { SchemaValidationError } from '../src/errors.ts';
import { createEvent } from '../src/event.ts';
import { handle } from '../src/policies/handle.ts';
import type { Outcome } from '../src/policies/outcome.ts';
import { SchemaRegistry } from '../src/schemas.ts';
import { uniqueName } from './helpers.ts';

const TYPE = 'com.acme.order.placed';
const zodSchema = z.object({ orderId: z.string(), total: z.number() });
const jsonSchema = {
  type: 'object',
  properties: { orderId: { type: 'string' }, total: { type: 'number' } },
  required: ['orderId', 'total'],
};

describe('SchemaRegistry', () => {
  for (const [name, schema, issue] of [
    ['Standard Schema (zod 4)', zodSchema, /^total: /],
    ['JSON Schema (ajv)', jsonSchema, /^\/total /],
  ] as const) {
    it(`validates with ${name}`, async () => {
      const registry = new SchemaRegistry().register(TYPE, schema);
      await expect(registry.validate(TYPE, { orderId: 'o-1', total: 1 })).resolves.toBeUndefined();
      const error = await registry.validate(TYPE, { orderId: 'o-1', total: 'x' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SchemaValidationError);
      expect((error as SchemaValidationError).type).toBe(TYPE);
      expect((error as SchemaValidationError).issues).toHaveLength(1);
      expect((error as SchemaValidationError).issues[0]).toMatch(issue);
      // A type without a schema is not checked.
      await expect(registry.validate('other', 123)).resolves.toBeUndefined();
    });
  }

  const v1 = (data: unknown, extensions: Record<string, string> = { dataversion: '1' }) =>
    createEvent({ type: TYPE, data, extensions }, 'test');

  const v3Registry = () =>
    new SchemaRegistry()
      .register(
        TYPE,
        z.object({ id: z.string(), amount: z.object({ value: z.number(), currency: z.string() }) }),
        {
          version: 3,
        },
      )
      .upcast(TYPE, 1, (d) => ({
        id: (d as { orderId: string }).orderId,
        total: (d as { total: number }).total,
      }))
      .upcast(TYPE, 2, (d) => {
        const { id, total } = d as { id: string; total: number };
        return { id, amount: { value: total, currency: 'EUR' } };
      });

  it('upcasts v1 → v2 → v3 on accept, stamps the new version and validates the result', async () => {
    const registry = v3Registry();
    expect(registry.versionOf(TYPE)).toBe(3);
    const accepted = await registry.accept(v1({ orderId: 'o-1', total: 5 }));
    expect(accepted.data).toEqual({ id: 'o-1', amount: { value: 5, currency: 'EUR' } });
    expect(accepted.extensions.dataversion).toBe('3');
    // No dataversion at all means version 1.
    const bare = await registry.accept(v1({ orderId: 'o-2', total: 6 }, {}));
    expect(bare.data).toEqual({ id: 'o-2', amount: { value: 6, currency: 'EUR' } });
  });

  it('stamps the new version also when an upcaster changes the data in place', async () => {
    const registry = new SchemaRegistry()
      .register(TYPE, z.object({ orderId: z.string(), currency: z.string() }), { version: 2 })
      .upcast(TYPE, 1, (d) => Object.assign(d as object, { currency: 'EUR' }));
    const accepted = await registry.accept(v1({ orderId: 'o-1' }));
    expect(accepted.data).toEqual({ orderId: 'o-1', currency: 'EUR' });
    expect(accepted.extensions.dataversion).toBe('2');
  });

  it('rejects a version it has no upcaster for, and a dataversion that is not a version', async () => {
    const registry = new SchemaRegistry().register(TYPE, zodSchema, { version: 3 }).upcast(TYPE, 2, (d) => d);
    await expect(registry.accept(v1({ orderId: 'o', total: 1 }))).rejects.toThrow(
      /no upcaster from version 1/,
    );
    await expect(
      registry.accept(v1({ orderId: 'o', total: 1 }, { dataversion: 'x1' })),
    ).rejects.toBeInstanceOf(SchemaValidationError);
  });
});

describe('schemas on a bus', () => {
  it('stamps dataversion on publish and upcasts on consume; a missing upcaster → rejected and dead-lettered', async () => {
    const url = `memory://${uniqueName('schemas')}`;
    const producer = await connect({ url, source: 'old-producer' });
    const consumer = await connect({ url, source: 'consumer' });
    consumer.schemas
      .register(
        TYPE,
        z.object({ id: z.string(), amount: z.object({ value: z.number(), currency: z.string() }) }),
        {
          version: 3,
        },
      )
      .upcast(TYPE, 1, (d) => ({
        id: (d as { orderId: string }).orderId,
        total: (d as { total: number }).total,
      }))
      .upcast(TYPE, 2, (d) => {
        const { id, total } = d as { id: string; total: number };
        return { id, amount: { value: total, currency: 'EUR' } };
      });
    await consumer.provision('orders', { groups: ['billing'] });
    await consumer.provision('orders.billing.dlq', { groups: ['ops'] });

    const seen: unknown[] = [];
    const outcomes = firstValueFrom(
      consumer.consume('orders', { group: 'billing' }).pipe(
        handle((event) => {
          seen.push({ data: event.data, version: event.extensions.dataversion });
        }),
        take(3),
        toArray(),
      ),
    );
    // An old producer that knows v1 only (no version registered: nothing stamped).
    await producer.publish('orders', { type: TYPE, data: { orderId: 'o-1', total: 10 }, key: 'k' });
    // A v3 producer.
    producer.schemas.register(TYPE, { type: 'object' }, { version: 3 });
    const v3 = await producer.publish('orders', {
      type: TYPE,
      data: { id: 'o-2', amount: { value: 2, currency: 'USD' } },
      key: 'k',
    });
    expect(v3.extensions.dataversion).toBe('3');
    // A v0 event: there is no upcaster from 0.
    await producer.publishWire('orders', [
      encode(
        createEvent(
          { type: TYPE, data: { orderId: 'o-3', total: 1 }, key: 'k', extensions: { dataversion: '0' } },
          'p',
        ),
      ),
    ]);

    const result: Outcome[] = await outcomes;
    expect(result.map((o) => o.kind)).toEqual(['acked', 'acked', 'rejected']);
    expect(seen).toEqual([
      { data: { id: 'o-1', amount: { value: 10, currency: 'EUR' } }, version: '3' },
      { data: { id: 'o-2', amount: { value: 2, currency: 'USD' } }, version: '3' },
    ]);
    const dead = await firstValueFrom(consumer.consume('orders.billing.dlq', { group: 'ops' }));
    // Read on the consumer's bus the dead letter fails the same check again, so look at its headers.
    expect(dead.invalid).toBeInstanceOf(SchemaValidationError);
    expect(dead.message.headers.deadletterreason).toMatch(/^rejected: .*dataversion '0' is not a version/);
    await dead.ack();
    await Promise.all([producer.close(), consumer.close()]);
  });

  it('rejects on consume an event that fails the schema, dead-lettering it with the reason', async () => {
    const url = `memory://${uniqueName('schemas')}`;
    const producer = await connect({ url, source: 'no-schema' });
    const consumer = await connect({ url, source: 'test' });
    consumer.schemas.register(TYPE, jsonSchema);
    await consumer.provision('orders', { groups: ['billing'] });
    await consumer.provision('orders.billing.dlq', { groups: ['ops'] });
    const outcome = firstValueFrom(consumer.consume('orders', { group: 'billing' }).pipe(handle(() => {})));
    const sent = await producer.publish('orders', { type: TYPE, data: { orderId: 1 } });
    const rejected = await outcome;
    expect(rejected.kind).toBe('rejected');
    expect(rejected.error).toBeInstanceOf(SchemaValidationError);
    const dead = await firstValueFrom(producer.consume('orders.billing.dlq', { group: 'ops' }));
    expect(dead.event?.id).toBe(sent.id);
    expect(dead.event?.extensions.deadletterreason).toMatch(/^rejected: .*failed its schema/);
    await dead.ack();
    await Promise.all([producer.close(), consumer.close()]);
  });
});
