// End to end: the whole order flow, on memory:// and on each real broker, asserting how every
// order ends, the causation chain behind it, the retries, duplicates and dead letters on the way.
import { afterAll, describe, expect, it } from 'vitest';
import { removeRunTopics } from '../src/cleanup.ts';
import { EventTypes, shortType } from '../src/events.ts';
import { type OrderFlowResult, runOrderFlow } from '../src/flow.ts';
import { renderTimeline, type TimelineEntry } from '../src/timeline.ts';

// The workspace's vitest global setup fills these in; the defaults are the brokers' usual local ports.
const BROKERS: ReadonlyArray<readonly [string, string]> = [
  ['memory', 'memory://'],
  ['kafka', `kafka://${process.env.KAFKA_BROKERS || '127.0.0.1:9092'}`],
  ['rabbitmq', process.env.AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672'],
  [
    'sqs',
    `sqs://?endpoint=${encodeURIComponent(process.env.SQS_ENDPOINT || 'http://127.0.0.1:4566')}&region=us-east-1`,
  ],
  ['nats', process.env.NATS_URL || 'nats://127.0.0.1:4222'],
];

/** The distinct events of one order, causes before effects, as short type names. */
function chain(result: OrderFlowResult, orderId: string): string[] {
  const correlationId = result.orders[orderId]!.correlationId;
  const seen = new Set<string>();
  const events: TimelineEntry[] = [];
  for (const e of result.entries) {
    if (e.kind !== 'event' || e.correlationId !== correlationId || seen.has(e.id)) continue;
    seen.add(e.id);
    events.push(e);
  }
  // Walk from the root along causation ids: the flow is one chain per order.
  const byCause = new Map(events.map((e) => [e.causationId ?? '', e]));
  const names: string[] = [];
  for (let e = byCause.get(''); e; e = byCause.get(e.id)) names.push(shortType(e.type));
  expect(names).toHaveLength(events.length); // every event hangs off the chain
  return names;
}

describe.each(BROKERS)('order flow on %s', (name, url) => {
  const runs: string[] = [];
  // Each run's queues, streams and topics stay on the broker otherwise: remove them as the demo does.
  afterAll(async () => {
    for (const runId of runs) await removeRunTopics(url, runId);
  });

  it('ends every order as expected, with the whole causation chain', { timeout: 180_000 }, async () => {
    // Named here, so a run that fails still has its queues swept.
    const runId = `t${Date.now().toString(36)}${Math.floor(Math.random() * 1_296).toString(36)}`;
    runs.push(runId);
    const result = await runOrderFlow({ url, runId, timeoutMs: name === 'memory' ? 10_000 : 120_000 });
    if (!result.ok) console.log(renderTimeline(result.entries), result.problems);

    expect(result.problems).toEqual([]);
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
      'o-1006': { status: 'cancelled', reason: 'payment failed: insufficient funds' },
    });
    expect(result.counts).toMatchObject({ confirmed: 2, cancelled: 3, deadLettered: 1, pending: 0 });
    // Reservations of cancelled orders were released; confirmed ones keep theirs.
    expect(result.stock).toEqual({ widget: 8, gizmo: 4, gadget: 0 });

    const happy = ['OrderPlaced', 'InventoryReserved', 'PaymentCaptured', 'OrderConfirmed'];
    const compensated = [
      'OrderPlaced',
      'InventoryReserved',
      'PaymentFailed',
      'InventoryReleased',
      'OrderCancelled',
    ];
    expect(chain(result, 'o-1001')).toEqual(happy);
    expect(chain(result, 'o-1002')).toEqual(happy);
    expect(chain(result, 'o-1003')).toEqual(compensated);
    expect(chain(result, 'o-1004')).toEqual(['OrderPlaced', 'InventoryOutOfStock', 'OrderCancelled']);
    expect(chain(result, 'o-1005')).toEqual(['OrderPlaced']);
    expect(chain(result, 'o-1006')).toEqual(compensated);

    // o-1001 was published twice under one id: inventory skipped the second copy, or the broker
    // never delivered it (JetStream de-duplicates by id). Either way it was reserved once (stock above).
    const skipped = result.entries.filter((e) => e.kind === 'duplicate');
    const repeats = result.entries.filter((e) => e.repeat);
    if (name === 'memory') expect(repeats).toHaveLength(1);
    for (const e of [...skipped, ...repeats]) expect(e.data).toMatchObject({ orderId: 'o-1001' });
    expect(skipped.length).toBeGreaterThanOrEqual(repeats.length);
    expect(skipped.length + result.counts.duplicatesDroppedByBroker).toBeGreaterThanOrEqual(1);

    // The gateway timed out once on o-1002; the retry captured the payment.
    const retries = result.entries.filter((e) => e.kind === 'retrying');
    expect(
      retries.map((e) => [e.service, shortType(e.type), (e.data as { orderId: string }).orderId]),
    ).toEqual([['payments', 'InventoryReserved', 'o-1002']]);
    expect(result.counts.retries).toBe(1);

    // The poison event went to the dead-letter topic with its envelope intact, rejected by inventory.
    const dead = result.entries.filter((e) => e.kind === 'deadLettered');
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({
      service: 'inventory',
      type: EventTypes.OrderPlaced,
      correlationId: result.orders['o-1005']!.correlationId,
    });
  });
});
