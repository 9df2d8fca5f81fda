import { describe, expect, it } from 'vitest';
import { Bus } from '../src/bus.ts';
import { connect } from '../src/connect.ts';
import { NotFoundError, UnsupportedOperationError } from '../src/errors.ts';
import { DEAD_LETTER_GROUP } from '../src/ops/stats.ts';
import { uniqueName, waitFor, wrappedTransport } from './helpers.ts';

const event = (n: number) => ({ type: 'com.acme.n', data: { n } });

describe('bus.inspect on memory://', () => {
  it('counts backlog, in flight, oldest age, position, consumers and dead letters, as plain JSON', async () => {
    const bus = await connect({ url: `memory://${uniqueName('inspect')}`, source: 'test' });
    try {
      await bus.provision('orders', { groups: ['billing'] });
      await bus.provision('orders.billing.dlq', { groups: [DEAD_LETTER_GROUP], from: 'earliest' });
      await bus.publishBatch('orders', [event(1), event(2), event(3)]);
      await bus.publish('orders.billing.dlq', event(0));

      const idle = await bus.inspect('orders', { group: 'billing' });
      expect(idle).toMatchObject({
        topic: 'orders',
        group: 'billing',
        backlog: 3,
        inFlight: 0,
        position: '0',
        consumers: 0,
        deadLetters: 1,
        status: 'STOP',
      });
      expect(idle.oldestAgeMs).toBeGreaterThanOrEqual(0);
      expect(JSON.parse(JSON.stringify(idle))).toEqual(idle);

      const held: Array<{ ack(): Promise<void> }> = [];
      const subscription = bus.consume('orders', { group: 'billing', prefetch: 2 }).subscribe((d) => {
        held.push(d);
      });
      await waitFor(() => held.length === 2, 'two deliveries');
      const busy = await bus.inspect('orders', { group: 'billing' });
      expect(busy).toMatchObject({ backlog: 3, inFlight: 2, consumers: 1, position: '0' });

      await held[0]!.ack();
      await waitFor(() => held.length === 3, 'the third delivery');
      for (const d of held.slice(1)) await d.ack();
      const drained = await bus.inspect('orders', { group: 'billing' });
      expect(drained).toMatchObject({
        backlog: 0,
        inFlight: 0,
        oldestAgeMs: null,
        position: '3',
        status: 'OK',
      });
      subscription.unsubscribe();
    } finally {
      await bus.close();
    }
  });

  it('status follows this bus’s readings: STALL with a member that holds and never settles', async () => {
    const bus = await connect({ url: `memory://${uniqueName('inspect')}`, source: 'test' });
    try {
      await bus.provision('t', { groups: ['g'] });
      await bus.publishBatch('t', [event(1), event(2)]);
      let got = 0;
      const subscription = bus.consume('t', { group: 'g', prefetch: 1 }).subscribe(() => {
        got += 1;
      });
      await waitFor(() => got === 1, 'a delivery');
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await bus.inspect('t', { group: 'g' })).status);
      expect(statuses).toEqual(['OK', 'OK', 'STALL']);
      subscription.unsubscribe();
    } finally {
      await bus.close({ drainTimeoutMs: 0 });
    }
  });

  it('WARN while the backlog grows under a member', async () => {
    const bus = await connect({ url: `memory://${uniqueName('inspect')}`, source: 'test' });
    try {
      await bus.provision('t', { groups: ['g'] });
      const held: Array<{ ack(): Promise<void> }> = [];
      const subscription = bus.consume('t', { group: 'g', prefetch: 1 }).subscribe((d) => {
        held.push(d);
      });
      const statuses = [];
      // Each round 3 published and 1 settled: the position moves, the backlog grows.
      for (let i = 0; i < 3; i++) {
        await bus.publishBatch('t', [event(3 * i), event(3 * i + 1), event(3 * i + 2)]);
        await waitFor(() => held.length === i + 1, 'a delivery');
        await held[i]!.ack();
        statuses.push((await bus.inspect('t', { group: 'g' })).status);
      }
      expect(statuses).toEqual(['OK', 'OK', 'WARN']);
      subscription.unsubscribe();
    } finally {
      await bus.close({ drainTimeoutMs: 0 });
    }
  });

  it('a dead-letter topic never provisioned counts 0; a custom one is read where it is', async () => {
    const bus = await connect({ url: `memory://${uniqueName('inspect')}`, source: 'test' });
    try {
      await bus.provision('t', { groups: ['g'] });
      expect((await bus.inspect('t', { group: 'g' })).deadLetters).toBe(0);
      await bus.provision('custom.dlq', { groups: [DEAD_LETTER_GROUP] });
      await bus.publishBatch('custom.dlq', [event(1), event(2)]);
      expect((await bus.inspect('t', { group: 'g', deadLetterTopic: 'custom.dlq' })).deadLetters).toBe(2);
    } finally {
      await bus.close();
    }
  });

  it('a topic or group the broker does not have is a NotFoundError naming which', async () => {
    const bus = await connect({ url: `memory://${uniqueName('inspect')}`, source: 'test' });
    try {
      await expect(bus.inspect('nope', { group: 'g' })).rejects.toMatchObject({
        name: 'NotFoundError',
        kind: 'topic',
      });
      await bus.provision('t');
      const error = await bus.inspect('t', { group: 'g' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NotFoundError);
      expect(error).toMatchObject({ kind: 'group', value: 'g' });
    } finally {
      await bus.close();
    }
  });

  it('a transport without inspect() is an UnsupportedOperationError', async () => {
    const bus = new Bus(
      wrappedTransport(uniqueName('plain'), (d) => d),
      { source: 'test' },
    );
    try {
      await expect(bus.inspect('t', { group: 'g' })).rejects.toBeInstanceOf(UnsupportedOperationError);
    } finally {
      await bus.close();
    }
  });
});
