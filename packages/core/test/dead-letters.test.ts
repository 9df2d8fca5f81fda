import { describe, expect, it } from 'vitest';
import { connect } from '../src/connect.ts';
import { UnsupportedOperationError } from '../src/errors.ts';
import type { RedriveOptions } from '../src/ops/dead-letters-plan.ts';
import { DEAD_LETTER_GROUP } from '../src/ops/stats.ts';
import { deadLetter } from '../src/policies/dead-letter.ts';
import type { WireMessage } from '../src/transport.ts';
import { uniqueName } from './helpers.ts';

async function deadLettered(count: number) {
  const bus = await connect({ url: `memory://${uniqueName('dl')}`, source: 'test' });
  await bus.provision('orders', { groups: ['billing', 'audit'] });
  const sent = await bus.publishBatch(
    'orders',
    Array.from({ length: count }, (_, n) => ({ type: n % 2 ? 'odd' : 'even', data: { n }, key: `k${n}` })),
  );
  const got: Promise<void>[] = [];
  await new Promise<void>((resolve) => {
    let seen = 0;
    const sub = bus.consume('orders', { group: 'billing', prefetch: count }).subscribe((delivery) => {
      const n = (delivery.event!.data as { n: number }).n;
      got.push(deadLetter(delivery, `boom ${n % 2}`, 1).then(() => delivery.ack()));
      if (++seen === count) {
        sub.unsubscribe();
        resolve();
      }
    });
  });
  await Promise.all(got);
  return { bus, sent, dlq: bus.deadLetters('orders', { group: 'billing' }) };
}

const audit = (bus: Awaited<ReturnType<typeof deadLettered>>['bus'], count: number) =>
  new Promise<WireMessage[]>((resolve) => {
    const messages: WireMessage[] = [];
    const sub = bus.consume('orders', { group: 'audit', from: 'earliest' }).subscribe((d) => {
      void d.ack();
      messages.push(d.message);
      if (messages.length === count) {
        sub.unsubscribe();
        resolve(messages);
      }
    });
  });

describe('bus.deadLetters', () => {
  it('groups() counts by reason and type, first ≤ last; inspect() is JSON and consumes nothing', async () => {
    const { bus, dlq } = await deadLettered(6);
    const groups = await dlq.groups();
    expect(groups.map((g) => [g.reason, g.type, g.count]).sort()).toEqual([
      ['boom 0', 'even', 3],
      ['boom 1', 'odd', 3],
    ]);
    for (const g of groups) expect(g.first! <= g.last!).toBe(true);
    const letters = await dlq.inspect({ limit: 100 });
    expect(letters).toHaveLength(6);
    expect(JSON.parse(JSON.stringify(letters))).toEqual(letters);
    expect(letters[0]).toMatchObject({
      topic: 'orders',
      group: 'billing',
      attempts: 1,
      valid: true,
      data: { n: 0 },
    });
    expect(await dlq.inspect({ filter: (l) => l.type === 'odd' })).toHaveLength(3);
    expect(await dlq.inspect({ limit: 100 })).toHaveLength(6);
    await bus.close();
  });

  it('redrive: transform changes data but not the id; unroutable letters are given back; to overrides', async () => {
    const { bus, sent, dlq } = await deadLettered(4);
    const report = await dlq.redrive({
      filter: (l) => l.type === 'even',
      transform: (event) => ({ ...event, id: 'not-kept', data: { fixed: true } }),
      idleMs: 200,
    });
    expect(report).toMatchObject({
      redriven: 2,
      skipped: 2,
      stopped: 'drained',
      destinations: { orders: 2 },
    });
    const redriven = await audit(bus, 6);
    const again = redriven.slice(4);
    expect(again.map((m) => m.headers.id).sort()).toEqual([sent[0]!.id, sent[2]!.id].sort());
    for (const m of again) {
      expect(JSON.parse(new TextDecoder().decode(m.body))).toEqual({ fixed: true });
      expect(m.headers.redrivecount).toBe('1');
      expect(Object.keys(m.headers).some((h) => h.startsWith('deadletter'))).toBe(false);
    }
    expect(await dlq.inspect()).toHaveLength(2);

    await bus.provision('elsewhere', { groups: ['x'] });
    const moved = await dlq.redrive({ to: 'elsewhere', idleMs: 200 });
    expect(moved).toMatchObject({ redriven: 2, destinations: { elsewhere: 2 } });
    expect(await dlq.inspect()).toEqual([]);
    await bus.close();
  });

  it('redrive: a letter without deadlettertopic is unroutable and stays; abort stops a slow redrive', async () => {
    const bus = await connect({ url: `memory://${uniqueName('dl')}`, source: 'test' });
    const dlqTopic = 'orders.billing.dlq';
    await bus.provision(dlqTopic, { groups: [DEAD_LETTER_GROUP] });
    await bus.publishWire(dlqTopic, [
      { headers: { specversion: '1.0', id: 'x', source: 's', type: 't' }, body: new Uint8Array() },
    ]);
    const dlq = bus.deadLetters('orders', { group: 'billing' });
    expect(await dlq.redrive({ idleMs: 200 })).toMatchObject({ unroutable: 1, redriven: 0 });
    expect(await dlq.inspect()).toHaveLength(1);

    await bus.provision('orders', { groups: ['billing'] });
    const many = Array.from({ length: 50 }, (_, n) => ({
      headers: { specversion: '1.0', id: `m${n}`, source: 's', type: 't', deadlettertopic: 'orders' },
      body: new Uint8Array(),
    }));
    await bus.publishWire(dlqTopic, many);
    const controller = new AbortController();
    const running = dlq.redrive({ rateLimit: 20, signal: controller.signal, idleMs: 200 });
    setTimeout(() => controller.abort(), 300);
    const report = await running;
    expect(report.stopped).toBe('aborted');
    expect(report.redriven).toBeLessThan(50);
    expect(await dlq.inspect({ limit: 100 })).toHaveLength(51 - report.redriven);
    await bus.close();
  });

  it('dry run counts what would be redriven and parked without touching the DLQ', async () => {
    const { bus, dlq } = await deadLettered(3);
    const report = await dlq.redrive({ dryRun: true, maxRedrives: 0 });
    expect(report).toMatchObject({ dryRun: true, scanned: 3, parked: 3, redriven: 0 });
    expect(await dlq.inspect()).toHaveLength(3);
    await bus.close();
  });

  it('a limit that is not a positive integer is a RangeError, not an empty answer', async () => {
    const { dlq } = await deadLettered(2);
    expect(await dlq.inspect({ limit: 1 })).toHaveLength(1);
    for (const limit of [Number.NaN, 0, -1, 1.5])
      await expect(dlq.inspect({ limit }), String(limit)).rejects.toThrow(RangeError);
    await expect(dlq.groups({ scanLimit: Number.NaN })).rejects.toThrow(
      /scanLimit must be a positive integer/,
    );
    await expect(dlq.redrive({ dryRun: true, scanLimit: 0 })).rejects.toThrow(RangeError);
  });

  it('redrive options it cannot mean are a RangeError naming them, before anything is consumed', async () => {
    // Before: batchSize NaN took nothing from the inbox and spun, rateLimit 0 slept Infinity (which
    // a timer runs after 1 ms: no limit), and idleMs Infinity reported an untouched DLQ drained.
    const { bus, dlq } = await deadLettered(2);
    const bad: [RedriveOptions, RegExp][] = [
      [{ batchSize: Number.NaN }, /batchSize must be a positive integer/],
      [{ batchSize: 0 }, /batchSize must be a positive integer/],
      [{ rateLimit: 0 }, /rateLimit must be a finite number above 0/],
      [{ rateLimit: Number.POSITIVE_INFINITY }, /rateLimit must be a finite number above 0/],
      [{ idleMs: Number.POSITIVE_INFINITY }, /idleMs must be a number of milliseconds from 0 to 2147483647/],
      [{ startTimeoutMs: -1 }, /startTimeoutMs must be a number of milliseconds/],
      [{ maxRedrives: 1.5 }, /maxRedrives must be a whole number ≥ 0 or Infinity/],
    ];
    for (const [options, message] of bad) {
      await expect(dlq.redrive(options), JSON.stringify(options)).rejects.toThrow(RangeError);
      await expect(dlq.redrive(options)).rejects.toThrow(message);
    }
    expect(await dlq.inspect()).toHaveLength(2);
    // Infinity redrives is a limit that never parks.
    const report = await dlq.redrive({ maxRedrives: Number.POSITIVE_INFINITY, idleMs: 200 });
    expect(report).toMatchObject({ redriven: 2, parked: 0 });
    await bus.close();
  });

  it('a transport without peek: groups() and inspect() reject with UnsupportedOperationError', async () => {
    const bus = await connect({ url: `memory://${uniqueName('dl')}`, source: 'test' });
    Object.defineProperty(bus.transport, 'peek', { value: undefined });
    await expect(bus.deadLetters('orders', { group: 'billing' }).groups()).rejects.toBeInstanceOf(
      UnsupportedOperationError,
    );
    await bus.close();
  });
});
