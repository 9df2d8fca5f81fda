import { NotFoundError, type WireMessage } from '@switchyard/core';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Fixture, sweepCreated, text, unique, until } from './helpers.ts';

let fixture: Fixture;
afterEach(async () => {
  await fixture?.close();
});
// The queues and SNS topics of the topics named here (the emulator keeps them as long as it runs).
afterAll(sweepCreated);

const event = (n: number): WireMessage => ({
  headers: { specversion: '1.0', id: `e-${n}`, type: 't', source: 'tests' },
  body: text(JSON.stringify({ n })),
});

for (const fanOut of ['auto', 'none'] as const) {
  describe(`SqsTransport.inspect, fan-out ${fanOut}`, () => {
    it('backlog = visible + not visible, in flight = not visible; no position or consumers claimed', async () => {
      fixture = new Fixture();
      const t = fixture.transport({ fanOut });
      const topic = unique('inspect');
      await t.provision(topic, 'g');
      await t.publish(
        topic,
        Array.from({ length: 5 }, (_, n) => event(n)),
      );
      expect(await t.inspect(topic, 'g')).toMatchObject({
        backlog: 5,
        inFlight: 0,
        oldestAgeMs: null,
        position: null,
        consumers: null,
      });
      const held = fixture.collect(t, topic, 'g', 2);
      await until(() => held.deliveries.length === 2, 10_000, 'two deliveries');
      expect(await t.inspect(topic, 'g')).toMatchObject({ backlog: 5, inFlight: 2 });
      // Drained: each delivery acked as it comes (prefetch 2 holds the rest back until then).
      let acked = 0;
      await until(
        () => {
          for (; acked < held.deliveries.length; acked++) void held.deliveries[acked]!.ack();
          return acked === 5;
        },
        10_000,
        'all five',
      );
      let drained = await t.inspect(topic, 'g');
      // Acks go out in batches: give the last one a moment.
      for (let i = 0; i < 50 && drained.backlog !== 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        drained = await t.inspect(topic, 'g');
      }
      expect(drained).toMatchObject({ backlog: 0, inFlight: 0 });
    });
  });
}

describe('SqsTransport.inspect of what does not exist', () => {
  it('a group never provisioned is a NotFoundError', async () => {
    fixture = new Fixture();
    const t = fixture.transport();
    const topic = unique('inspect-missing');
    await t.provision(topic);
    const error = await t.inspect(topic, 'g').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ kind: 'group' });
  });
});
