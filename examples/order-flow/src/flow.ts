// runOrderFlow(): start the services, the checkout process manager and an observer, place the
// demo's orders, wait (with a deadline) until every order has ended, query the read model, stop
// everything, and compare with what should happen.
import { randomBytes } from 'node:crypto';
import { type Bus, connect, redactUrl, SchemaRegistry } from '@switchyard/core';
import type { Pool } from 'pg';
import { startCheckout } from './checkout.ts';
import {
  EventTypes,
  type OrderPlaced,
  registerSchemas,
  TimerTypes,
  type Topics,
  topicPrefixFor,
  topicsFor,
} from './events.ts';
import { type InventoryService, startInventory } from './inventory.ts';
import { memoryStorage } from './memory-storage.ts';
import type { OrderSummary } from './order-summary.ts';
import { startOrders } from './orders.ts';
import { startPayments } from './payments.ts';
import type { Service } from './service.ts';
import type { Relay, Storage } from './storage.ts';
import {
  type OrderState,
  type OrderStatus,
  orderIdOf,
  startTimeline,
  type Timeline,
  type TimelineEntry,
} from './timeline.ts';

export interface ScenarioOrder {
  readonly order: OrderPlaced;
  /** What should become of it, and why. */
  readonly expect: { readonly status: Exclude<OrderStatus, 'pending'>; readonly reason?: string | RegExp };
  /** What the demo does to it on the way. */
  readonly twist?: 'sent twice' | 'poison';
  readonly story: string;
}

export const INITIAL_STOCK: Readonly<Record<string, number>> = { widget: 10, gizmo: 5, gadget: 0 };

const order = (
  n: number,
  customerId: string,
  items: OrderPlaced['items'],
  total: number,
  paymentToken: string,
): OrderPlaced => ({ orderId: `o-${n}`, customerId, items, total, paymentToken });

/** The demo's orders. Each one shows one thing. */
export const SCENARIO: readonly ScenarioOrder[] = [
  {
    order: order(1001, 'c-ada', [{ sku: 'widget', quantity: 2 }], 39.98, 'tok_visa'),
    twist: 'sent twice',
    expect: { status: 'confirmed' },
    story:
      'happy path; OrderPlaced reaches the bus twice under one id (as from a relay that crashed) and is handled once',
  },
  {
    order: order(1002, 'c-bob', [{ sku: 'gizmo', quantity: 1 }], 24.5, 'tok_flaky'),
    expect: { status: 'confirmed' },
    story: 'the payment gateway times out once; the retry succeeds',
  },
  {
    order: order(1003, 'c-cy', [{ sku: 'widget', quantity: 3 }], 59.97, 'tok_declined'),
    expect: { status: 'cancelled', reason: 'payment failed: card declined' },
    story: 'card declined: the checkout has the stock released (compensation), the order is cancelled',
  },
  {
    order: order(1004, 'c-dee', [{ sku: 'gadget', quantity: 1 }], 99, 'tok_visa'),
    expect: { status: 'cancelled', reason: 'out of stock: gadget x1' },
    story: 'out of stock: cancelled before any payment',
  },
  {
    order: order(1005, 'c-eve', [{ sku: 'widget', quantity: 1 }], 19.99, 'tok_visa'),
    twist: 'poison',
    expect: { status: 'dead-lettered', reason: /^rejected: / },
    story: 'a legacy client publishes it with a malformed body: it fails its schema and is dead-lettered',
  },
  {
    order: order(1006, 'c-fay', [{ sku: 'gizmo', quantity: 2 }], 49, 'tok_3ds'),
    expect: { status: 'cancelled', reason: 'payment timed out' },
    story: 'the customer never confirms 3-D Secure: the payment timeout fires once, the stock is released',
  },
];

export interface OrderFlowOptions {
  /** Broker URL. Default: $BROKER_URL, else memory://. */
  readonly url?: string;
  /** How long to wait for every order to end. Default: 10 s on memory://, 120 s on a broker. */
  readonly timeoutMs?: number;
  /** Suffix for topic names. Default: a fresh random one, so runs never see each other's events. */
  readonly runId?: string;
  /** Progress messages (connecting, waiting...). */
  readonly log?: (message: string) => void;
  /**
   * Keep the state in PostgreSQL (event store, outbox + relay, saga store and timers, read model)
   * in the schema of these pools' search_path: `pool` for the services, `newPool(max)` for the
   * outbox relay (pgTestSchema() gives both). Default: in process memory.
   */
  readonly postgres?: { readonly pool: Pool; newPool(max: number): Pool };
  /** How long the checkout waits for a payment. Default: 1 s on memory://, 5 s on a broker. */
  readonly paymentTimeoutMs?: number;
}

export interface OrderFlowResult {
  readonly url: string;
  readonly runId: string;
  readonly topics: Topics;
  /** Where the state was kept. */
  readonly storage: Storage['kind'];
  /** How each order ended, by order id. */
  readonly orders: Readonly<Record<string, OrderState>>;
  readonly entries: readonly TimelineEntry[];
  readonly counts: {
    readonly confirmed: number;
    readonly cancelled: number;
    readonly deadLettered: number;
    readonly pending: number;
    readonly retries: number;
    readonly duplicatesSkipped: number;
    /** Second copies of an event id the broker itself dropped (JetStream de-duplicates on publish). */
    readonly duplicatesDroppedByBroker: number;
    /** Payment timeouts that fired. */
    readonly timeouts: number;
    /** Compensating commands sent. */
    readonly compensations: number;
  };
  /** The order-summary read model, queried once the flow ended. */
  readonly summaries: readonly OrderSummary[];
  /** The outbox relay when it stopped: messages it sent, and what it left unsent. */
  readonly outbox: { readonly relayed: number; readonly backlog: number };
  /** Stock left per SKU when the flow ended. */
  readonly stock: Readonly<Record<string, number>>;
  /** Everything that differs from the expected final state. Empty when all is as it should be. */
  readonly problems: readonly string[];
  readonly ok: boolean;
  readonly elapsedMs: number;
}

export async function runOrderFlow(options: OrderFlowOptions = {}): Promise<OrderFlowResult> {
  const url = options.url ?? process.env.BROKER_URL ?? 'memory://';
  const isMemory = url.startsWith('memory:');
  const timeoutMs = options.timeoutMs ?? (isMemory ? 10_000 : 120_000);
  const paymentTimeoutMs = options.paymentTimeoutMs ?? (isMemory ? 1_000 : 5_000);
  const runId = options.runId ?? `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const topics = topicsFor(runId);
  const log = options.log ?? (() => {});
  const problems: string[] = [];
  const startedAt = Date.now();

  const services: Service[] = [];
  const extraBuses: Bus[] = [];
  let relay: Relay | undefined;
  let timeline: Timeline | undefined;
  try {
    const schemas = new SchemaRegistry();
    registerSchemas({ schemas });
    // Imported only when asked for: the memory demo loads no PostgreSQL code.
    const storage = options.postgres
      ? await (await import('./pg-storage.ts')).pgStorage({ ...options.postgres, schemas })
      : memoryStorage({ schemas });
    log(`connecting to ${redactUrl(url)} (topics ${topicPrefixFor(runId)}*), state in ${storage.kind}`);
    timeline = await startTimeline({
      url,
      topics,
      onError: (e) => problems.push(`timeline consumer failed: ${e.message}`),
    });
    const observer = timeline;
    const common = {
      url,
      topics,
      onOutcome: (service: string, outcome: Parameters<Timeline['outcome']>[1]) =>
        observer.outcome(service, outcome),
      onError: (service: string, e: Error) => problems.push(`${service} failed: ${e.message}`),
    };
    const inventory: InventoryService = await startInventory({ ...common, stock: INITIAL_STOCK });
    services.push(inventory);
    services.push(await startPayments(common));
    const orders = await startOrders({ ...common, storage });
    services.push(orders);
    services.push(
      await startCheckout({
        ...common,
        storage,
        paymentTimeoutMs,
        onStep: (step) => observer.sagaStep('checkout', step),
      }),
    );
    // The relay: moves what the orders service (and, on PostgreSQL, the checkout) committed to
    // the outbox onto the bus.
    const relayBus = await connect({ url, source: 'outbox-relay' });
    extraBuses.push(relayBus);
    relay = storage.relay(relayBus);
    // A client that predates the schemas (it registers none), for the poison event.
    const legacy = await connect({ url, source: 'legacy-checkout' });
    extraBuses.push(legacy);

    log(`placing ${SCENARIO.length} orders (payment timeout ${paymentTimeoutMs / 1000} s)`);
    for (const { order, twist } of SCENARIO) {
      if (twist === 'poison') {
        await legacy.publish(topics.orders, {
          type: EventTypes.OrderPlaced,
          // items should be a list and total a number: this fails orderPlacedSchema.
          data: { ...order, items: '1x widget', total: String(order.total) },
          key: order.orderId,
          subject: order.orderId,
        });
        continue;
      }
      const placed = await orders.placeOrder(order);
      // An outbox relay publishes at least once: one that crashed after the broker took an event
      // but before it marked the row sent sends it again, under the same id.
      if (twist === 'sent twice' && placed) await relayBus.publish(topics.orders, placed);
    }

    log(`waiting for every order to end (deadline ${timeoutMs / 1000} s)`);
    const done = () => {
      if (problems.length > 0) return true;
      const states = observer.orders();
      const ended = SCENARIO.every(
        ({ order }) => (states.get(order.orderId)?.status ?? 'pending') !== 'pending',
      );
      // Also wait for the twists to show, so the timeline tells the whole story. A broker that
      // de-duplicates by event id (JetStream) never delivers the second copy: nothing to wait for.
      const entries = observer.entries;
      const secondCopySeen = entries.some((e) => e.repeat);
      const duplicateDone =
        !secondCopySeen || entries.some((e) => e.kind === 'duplicate' || e.kind === 'ignored');
      return ended && duplicateDone && entries.some((e) => e.kind === 'retrying');
    };
    if (!(await until(observer, done, timeoutMs))) {
      problems.push(`deadline: not every order ended within ${timeoutMs / 1000} s`);
    }
    // The read model: the projection has applied every order event appended so far.
    await withDeadline(orders.caughtUp(), 10_000, 'the order-summary read model did not catch up');
    const summaries = await orders.summaries.list();

    // Stop the services first (they drain in-flight work), then the relay, the observer last.
    await Promise.all(services.splice(0).map((s) => s.stop()));
    await relay.close();
    const { relayed, backlog } = await relay.stats();
    const outbox = { relayed, backlog };
    relay = undefined;
    await Promise.all(extraBuses.splice(0).map((b) => b.close()));
    await observer.stop();
    timeline = undefined;

    return summarize({
      url,
      runId,
      topics,
      storage: storage.kind,
      observer,
      inventory,
      summaries,
      outbox,
      problems,
      startedAt,
    });
  } finally {
    // On an error above: close whatever was opened, so the process can still exit.
    await Promise.allSettled([
      ...services.map((s) => s.stop()),
      ...(relay ? [relay.close()] : []),
      ...extraBuses.map((b) => b.close({ drainTimeoutMs: 1_000 })),
      ...(timeline ? [timeline.stop()] : []),
    ]);
  }
}

function withDeadline<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Resolves true once `done()` holds, checked after every timeline entry; false at the deadline. */
function until(timeline: Timeline, done: () => boolean, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const finish = (value: boolean) => {
      clearTimeout(timer);
      off();
      resolve(value);
    };
    const timer = setTimeout(() => finish(done()), timeoutMs);
    const off = timeline.onChange(() => {
      if (done()) finish(true);
    });
    if (done()) finish(true);
  });
}

function summarize(input: {
  url: string;
  runId: string;
  topics: Topics;
  storage: Storage['kind'];
  observer: Timeline;
  inventory: InventoryService;
  summaries: readonly OrderSummary[];
  outbox: OrderFlowResult['outbox'];
  problems: string[];
  startedAt: number;
}): OrderFlowResult {
  const { observer, inventory, problems } = input;
  const states = observer.orders();
  const entries = observer.entries;
  const orders: Record<string, OrderState> = {};
  for (const { order, expect } of SCENARIO) {
    const state = states.get(order.orderId);
    orders[order.orderId] = state ?? { orderId: order.orderId, status: 'pending', correlationId: '' };
    const status = state?.status ?? 'pending';
    const reason = state?.reason ?? '';
    const reasonOk =
      expect.reason === undefined ||
      (typeof expect.reason === 'string' ? reason === expect.reason : expect.reason.test(reason));
    if (status !== expect.status || !reasonOk) {
      problems.push(
        `${order.orderId}: expected ${expect.status}${expect.reason ? ` (${expect.reason})` : ''}, got ${status}${reason ? ` (${reason})` : ''}`,
      );
    }
  }
  // Every follow-up carries its order's correlation id, and names an event we saw as its cause.
  const ids = new Set(entries.filter((e) => e.kind === 'event').map((e) => e.id));
  for (const e of entries) {
    if (e.kind !== 'event' || e.type === EventTypes.OrderPlaced) continue;
    const orderId = orderIdOf(e.data) ?? '?';
    if (e.correlationId !== orders[orderId]?.correlationId) {
      problems.push(`${orderId}: ${e.type} ${e.id} has correlation id ${e.correlationId}`);
    }
    if (!e.causationId || !ids.has(e.causationId)) {
      problems.push(`${orderId}: ${e.type} ${e.id} has unknown causation id ${e.causationId}`);
    }
  }
  // Stock: only confirmed orders keep their reservation; released stock is back.
  const expectedStock: Record<string, number> = { ...INITIAL_STOCK };
  for (const { order, expect } of SCENARIO) {
    if (expect.status !== 'confirmed') continue;
    for (const item of order.items) expectedStock[item.sku] = (expectedStock[item.sku] ?? 0) - item.quantity;
  }
  const stock = Object.fromEntries(inventory.stock);
  for (const [sku, units] of Object.entries(expectedStock)) {
    if (stock[sku] !== units) problems.push(`stock of ${sku}: expected ${units}, got ${stock[sku]}`);
  }
  // The read model answers for every order that reached the orders service, as the bus saw it end.
  for (const { order, expect, twist } of SCENARIO) {
    if (twist === 'poison') continue; // never placed: the legacy client went around the service
    const row = input.summaries.find((s) => s.orderId === order.orderId);
    if (row?.status !== expect.status) {
      problems.push(`read model: ${order.orderId} is ${row?.status ?? 'missing'}, expected ${expect.status}`);
    }
  }
  const events = entries.filter((e) => e.kind === 'event');
  const statuses = Object.values(orders).map((o) => o.status);
  const count = (status: OrderStatus) => statuses.filter((s) => s === status).length;
  return {
    url: redactUrl(input.url),
    runId: input.runId,
    topics: input.topics,
    storage: input.storage,
    orders,
    entries,
    counts: {
      confirmed: count('confirmed'),
      cancelled: count('cancelled'),
      deadLettered: count('dead-lettered'),
      pending: count('pending'),
      retries: entries.filter((e) => e.kind === 'retrying').length,
      // The checkout drops a second copy as a duplicate, or as "ended" if the order got there first.
      duplicatesSkipped: entries.filter((e) => e.kind === 'duplicate' || e.kind === 'ignored').length,
      // Sent twice, ended, and the second copy never showed: the broker dropped it.
      duplicatesDroppedByBroker: SCENARIO.filter(
        ({ order, twist }) =>
          twist === 'sent twice' &&
          orders[order.orderId]?.status !== 'pending' &&
          !entries.some((e) => e.repeat && (e.data as { orderId?: string }).orderId === order.orderId),
      ).length,
      timeouts: new Set(events.filter((e) => e.type === TimerTypes.PaymentTimeout).map((e) => e.id)).size,
      compensations: new Set(events.filter((e) => e.note?.startsWith('compensation')).map((e) => e.id)).size,
    },
    summaries: input.summaries,
    outbox: input.outbox,
    stock,
    problems,
    ok: problems.length === 0,
    elapsedMs: Date.now() - input.startedAt,
  };
}
