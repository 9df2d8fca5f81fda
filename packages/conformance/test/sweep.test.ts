// `pnpm brokers sweep`: which names count as leftovers, and a sweep that removes one for real.
import { randomUUID } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { describe, expect, inject, test } from 'vitest';
import { runPrefix, uniqueName } from '../src/names.ts';
import { requireBroker } from '../src/provision/provided.ts';
import { sweepBroker } from '../src/sweep/index.ts';
import { isLeftoverTopic, unescapeName } from '../src/sweep/prefixes.ts';

const brokers = inject('brokers') ?? {};

describe('leftover names', () => {
  test('every prefix tests, demos and benchmarks use counts; other names do not', () => {
    expect(isLeftoverTopic(uniqueName('g'))).toBe(true);
    expect(runPrefix).toMatch(/^cf-[0-9a-f]{6}-$/);
    for (const name of [
      'kafka-test.ab12cd.rt-1',
      'rmq-test.x.y',
      'sqs-test.a.b',
      'nats-test.t-1',
      'sy-demo-x-orders',
    ])
      expect(isLeftoverTopic(name), name).toBe(true);
    expect(isLeftoverTopic('orders-mxc5xi9b3a44:inventory')).toBe(true); // the order flow's old names
    expect(isLeftoverTopic('bench-mxc5xi9b.rt')).toBe(true);
    for (const name of ['orders', 'orders-eu', 'cf-orders', 'payments.dlq', 'switchyard.delay.1000'])
      expect(isLeftoverTopic(name), name).toBe(false);
  });

  test('escaped SQS and NATS names give back the topic they were made from', () => {
    expect(unescapeName('sqs-test_2Ert_2Eab12__g')).toBe('sqs-test.rt.ab12__g');
    expect(unescapeName('caf_C3_A9')).toBe('café');
    expect(isLeftoverTopic(unescapeName('nats-test_2Et-1'))).toBe(true);
  });
});

describe('sweep', () => {
  test('removes a leftover stream from NATS and reports it', async (context) => {
    // Where every broker is required (CI) a missing NATS fails here; elsewhere the run may leave it out.
    if (!brokers.nats?.available && process.env.REQUIRE_BROKERS !== '1')
      context.skip('n/a: NATS was not provisioned for this run (BROKERS)');
    const url = requireBroker(brokers, 'nats');
    const topic = `nats-test.sweep-${randomUUID().slice(0, 8)}`;
    const stream = `SWITCHYARD_${topic.replace('.', '_2E')}`;
    const nc = await connect({ servers: url });
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({
        name: stream,
        subjects: [`sweep.${randomUUID().slice(0, 8)}`],
        storage: 'memory',
      });
      // Only this test's topic: other files may be running against the same server.
      const only = { match: (name: string) => name === topic };
      expect(await sweepBroker('nats', url, { ...only, dryRun: true })).toMatchObject({ names: 1 });
      expect(await sweepBroker('nats', url, only)).toMatchObject({ names: 1 });
      await expect(jsm.streams.info(stream)).rejects.toThrow(/not found/);
      expect(await sweepBroker('nats', url, { ...only, dryRun: true })).toMatchObject({ names: 0 });
    } finally {
      await nc.close();
    }
  });
});
