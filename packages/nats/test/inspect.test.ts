import { NotFoundError } from '@switchyard/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Collector, Fixture, message, unique } from './helpers.ts';

let fixture: Fixture;
beforeEach(() => {
  fixture = new Fixture();
});
afterEach(async () => {
  await fixture.close();
});

describe('NatsTransport.inspect', () => {
  it('backlog = num_pending + num_ack_pending, in flight = num_ack_pending, position = ack floor, oldest age', async () => {
    const transport = await fixture.transport();
    const topic = fixture.topic();
    const group = unique('g');
    await transport.provision(topic, group);
    const before = Date.now();
    await transport.publish(
      topic,
      Array.from({ length: 5 }, () => message()),
    );
    const idle = await transport.inspect(topic, group);
    expect(idle).toMatchObject({ backlog: 5, inFlight: 0, position: '0', consumers: null });
    expect(idle.oldestAgeMs).toBeGreaterThanOrEqual(0);
    expect(idle.oldestAgeMs).toBeLessThanOrEqual(Date.now() - before + 1_000);

    const collector = new Collector(transport, topic, { group, prefetch: 2 });
    const [first, second] = await collector.atLeast(2);
    const held = await transport.inspect(topic, group);
    expect(held).toMatchObject({ backlog: 5, inFlight: 2, position: '0' });

    await first!.ack();
    await second!.ack();
    await collector.atLeast(4);
    const moved = await transport.inspect(topic, group);
    // Two acked: the floor moved past them, and they left the backlog.
    expect(moved).toMatchObject({ backlog: 3, position: '2' });
    for (const d of collector.deliveries.slice(2)) await d.ack();
    collector.unsubscribe();
  });

  it('a missing topic or group is a NotFoundError naming which', async () => {
    const transport = await fixture.transport();
    const topic = fixture.topic();
    await expect(transport.inspect(topic, 'g')).rejects.toMatchObject({
      name: 'NotFoundError',
      kind: 'topic',
    });
    await transport.provision(topic);
    const error = await transport.inspect(topic, unique('g')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ kind: 'group' });
  });
});
