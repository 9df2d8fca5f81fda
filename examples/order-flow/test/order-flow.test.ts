// End to end: the whole order flow, on memory:// with the memory stores and on each real broker
// with the PostgreSQL stores (event store, outbox + relay, saga store and timers, read model),
// asserting how every order ends, the causation behind it, the retry, the duplicate, the dead
// letter, the payment timeout and its compensation (exactly once), and the read model's answers.
import { pgTestSchema } from '@switchyard/conformance';
import { afterAll, describe, expect, it } from 'vitest';
import { removeRunTopics } from '../src/cleanup.ts';
import { CommandTypes, EventTypes, shortType, TimerTypes } from '../src/events.ts';
import { type OrderFlowResult, runOrderFlow } from '../src/flow.ts';
import { pgOrderSummaryTable } from '../src/pg-order-summary.ts';
import { orderIdOf, renderTimeline } from '../src/timeline.ts';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';

// The workspace's vitest global setup fills these in; the defaults are the brokers' usual local ports.
const RUNS: ReadonlyArray<readonly [string, 'memory' | 'postgres', string]> = [
  ['memory', 'memory', 'memory://'],
  ['memory', 'postgres', 'memory://'],
  ['kafka', 'postgres', `kafka://${process.env.KAFKA_BROKERS || '127.0.0.1:9092'}`],
  ['rabbitmq', 'postgres', process.env.AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672'],
  [
    'sqs',
    'postgres',
    `sqs://?endpoint=${encodeURIComponent(process.env.SQS_ENDPOINT || 'http://127.0.0.1:4566')}&region=us-east-1`,
  ],
  ['nats', 'postgres', process.env.NATS_URL || 'nats://127.0.0.1:4222'],
];

/**
 * The distinct events of one order as `Type <- CauseType`, sorted: what caused what. A second
 * copy of an event id counts once; an event whose cause was never seen shows `<- ?`.
 */
function causes(result: OrderFlowResult, orderId: string): string[] {
  const correlationId = result.orders[orderId]!.correlationId;
  const events = new Map(
    result.entries
      .filter((e) => e.kind === 'event' && e.correlationId === correlationId)
      .map((e) => [e.id, e]),
  );
  return [...events.values()]
    .map((e) => {
      if (e.causationId === undefined) return shortType(e.type);
      const cause = events.get(e.causationId);
      return `${shortType(e.type)} <- ${cause ? shortType(cause.type) : '?'}`;
    })
    .sort();
}

/** Every copy of `type` on the timeline for `orderId` (a re-sent id counts again). */
function copies(result: OrderFlowResult, orderId: string, type: string) {
  const correlationId = result.orders[orderId]!.correlationId;
  return result.entries.filter(
    (e) => e.kind === 'event' && e.type === type && e.correlationId === correlationId,
  );
}

describe.each(RUNS)('order flow on %s, state in %s', (name, storage, url) => {
  const runs: string[] = [];
  // Each run's queues, streams and topics stay on the broker otherwise: remove them as the demo does.
  afterAll(async () => {
    for (const runId of runs) await removeRunTopics(url, runId);
  });

  it('ends every order as expected: causation, retry, duplicate, dead letter, timeout, read model', {
    timeout: 180_000,
  }, async () => {
    // Named here, so a run that fails still has its queues swept.
    const runId = `t${Date.now().toString(36)}${Math.floor(Math.random() * 1_296).toString(36)}`;
    runs.push(runId);
    const db = storage === 'postgres' ? await pgTestSchema(DATABASE_URL) : undefined;
    try {
      const result = await runOrderFlow({
        url,
        runId,
        timeoutMs: name === 'memory' ? 15_000 : 120_000,
        ...(db ? { postgres: db } : {}),
      });
      if (!result.ok) console.log(renderTimeline(result.entries), result.problems);

      expect(result.problems).toEqual([]);
      expect(result.storage).toBe(storage);
      const orders = Object.fromEntries(
        Object.entries(result.orders).map(([id, o]) => [id, { status: o.status, reason: o.reason }]),
      );
      expect(orders).toEqual({
        'o-1001': { status: 'confirmed', reason: undefined },
        'o-1002': { status: 'confirmed', reason: undefined },
        'o-1003': { status: 'cancelled', reason: 'payment failed: card declined' },
        'o-1004': { status: 'cancelled', reason: 'out of stock: gadget x1' },
        'o-1005': {
          status: 'dead-lettered',
          reason: expect.stringMatching(/^rejected: .*failed its schema.*items.*total/),
        },
        'o-1006': { status: 'cancelled', reason: 'payment timed out' },
      });
      expect(result.counts).toMatchObject({
        confirmed: 2,
        cancelled: 3,
        deadLettered: 1,
        pending: 0,
        timeouts: 1,
        compensations: 2,
      });
      // Everything the orders service wrote went out through the outbox (10 order events); on
      // PostgreSQL the checkout's 16 commands and 1 timeout event did too (pgSagaStore({ outbox })).
      // The relay sent each once and left nothing behind.
      expect(result.outbox).toEqual({ relayed: storage === 'postgres' ? 27 : 10, backlog: 0 });
      // Reservations of cancelled orders were given back; confirmed ones keep theirs.
      expect(result.stock).toEqual({ widget: 8, gizmo: 4, gadget: 0 });

      // What caused what: the checkout's commands between the services' events.
      const start = ['OrderPlaced', 'ReserveStock <- OrderPlaced'];
      const reserved = [...start, 'InventoryReserved <- ReserveStock', 'ChargePayment <- InventoryReserved'];
      const released = [
        'ReleaseStock <- %s',
        'InventoryReleased <- ReleaseStock',
        'CancelOrder <- InventoryReleased',
        'OrderCancelled <- CancelOrder',
      ];
      const happy = [
        ...reserved,
        'PaymentCaptured <- ChargePayment',
        'ConfirmOrder <- PaymentCaptured',
        'OrderConfirmed <- ConfirmOrder',
      ];
      expect(causes(result, 'o-1001')).toEqual(happy.sort());
      expect(causes(result, 'o-1002')).toEqual(happy.sort());
      expect(causes(result, 'o-1003')).toEqual(
        [
          ...reserved,
          'PaymentFailed <- ChargePayment',
          ...released.map((s) => s.replace('%s', 'PaymentFailed')),
        ].sort(),
      );
      expect(causes(result, 'o-1004')).toEqual(
        [
          ...start,
          'InventoryOutOfStock <- ReserveStock',
          'CancelOrder <- InventoryOutOfStock',
          'OrderCancelled <- CancelOrder',
        ].sort(),
      );
      expect(causes(result, 'o-1005')).toEqual(['OrderPlaced']);
      // The timer was armed when the stock was reserved; it fired and the checkout compensated.
      expect(causes(result, 'o-1006')).toEqual(
        [
          ...reserved,
          'PaymentTimeout <- InventoryReserved',
          ...released.map((s) => s.replace('%s', 'PaymentTimeout')),
        ].sort(),
      );

      // Exactly once: one timeout fired (for o-1006 only: the others' timers were cancelled by
      // their payment's answer), one release of its stock, one cancellation; no copy re-sent.
      const timeouts = result.entries.filter((e) => e.type === TimerTypes.PaymentTimeout);
      expect(timeouts.map((e) => [e.kind, e.correlationId])).toEqual([
        ['event', result.orders['o-1006']!.correlationId],
      ]);
      expect(copies(result, 'o-1006', CommandTypes.ReleaseStock)).toHaveLength(1);
      expect(copies(result, 'o-1006', EventTypes.InventoryReleased)).toHaveLength(1);
      expect(copies(result, 'o-1006', EventTypes.OrderCancelled)).toHaveLength(1);
      const compensations = result.entries.filter((e) => e.note?.startsWith('compensation'));
      expect(compensations.map((e) => [e.service, shortType(e.type), orderIdOf(e.data)]).sort()).toEqual([
        ['checkout', 'ReleaseStock', 'o-1003'],
        ['checkout', 'ReleaseStock', 'o-1006'],
      ]);

      // o-1001's OrderPlaced went out twice under one id: the checkout dropped the second copy, or
      // the broker never delivered it (JetStream de-duplicates by id). It was reserved once (stock).
      const skipped = result.entries.filter((e) => e.kind === 'duplicate' || e.kind === 'ignored');
      const repeats = result.entries.filter((e) => e.repeat);
      if (name === 'memory') expect(repeats).toHaveLength(1);
      for (const e of [...skipped, ...repeats]) expect(e.data).toMatchObject({ orderId: 'o-1001' });
      expect(skipped.length).toBeGreaterThanOrEqual(repeats.length);
      expect(skipped.length + result.counts.duplicatesDroppedByBroker).toBeGreaterThanOrEqual(1);

      // The gateway timed out once on o-1002; the retry captured the payment.
      const retries = result.entries.filter((e) => e.kind === 'retrying');
      expect(
        retries.map((e) => [e.service, shortType(e.type), (e.data as { orderId: string }).orderId]),
      ).toEqual([['payments', 'ChargePayment', 'o-1002']]);

      // The poison event went to the dead-letter topic with its envelope intact, rejected by the
      // checkout (the first to consume it).
      const dead = result.entries.filter((e) => e.kind === 'deadLettered');
      expect(dead).toHaveLength(1);
      expect(dead[0]).toMatchObject({
        service: 'checkout',
        type: EventTypes.OrderPlaced,
        correlationId: result.orders['o-1005']!.correlationId,
      });

      // The read model answers for every order the orders service took (not the poison one).
      const summary = (orderId: string, status: string, reason: string | null, total: number) =>
        expect.objectContaining({ orderId, status, reason, total });
      expect(result.summaries).toEqual([
        summary('o-1001', 'confirmed', null, 39.98),
        summary('o-1002', 'confirmed', null, 24.5),
        summary('o-1003', 'cancelled', 'payment failed: card declined', 59.97),
        summary('o-1004', 'cancelled', 'out of stock: gadget x1', 99),
        summary('o-1006', 'cancelled', 'payment timed out', 49),
      ]);
      expect(result.summaries[0]).toMatchObject({ customerId: 'c-ada', units: 2, version: 2 });
      expect(result.summaries[0]!.paymentId).toMatch(/^pay_/);
      if (db) {
        // On PostgreSQL the read model outlives the flow: any service can query it with SQL.
        const table = pgOrderSummaryTable(db.pool);
        expect((await table.list({ status: 'cancelled' })).map((s) => s.orderId)).toEqual([
          'o-1003',
          'o-1004',
          'o-1006',
        ]);
        expect(await table.get('o-1006')).toMatchObject({ status: 'cancelled', units: 2, version: 2 });
        expect((await table.list({ customerId: 'c-bob' })).map((s) => s.status)).toEqual(['confirmed']);
      }
    } finally {
      await db?.drop();
    }
  });
});
