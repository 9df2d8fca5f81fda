// Redrive: consume the DLQ through DEAD_LETTER_GROUP and republish each dead letter, acking it only
// once its republish is confirmed, so an interrupted redrive resumes where it stopped.
import type { Subscription } from 'rxjs';
import type { Bus } from '../bus.ts';
import type { Delivery } from '../delivery.ts';
import { keepDeadLetters } from '../policies/dead-letter.ts';
import type { WireMessage } from '../transport.ts';
import { type DeadLetter, readDeadLetter } from './dead-letters-letter.ts';
import {
  bodyDropped,
  type Counts,
  count,
  fail,
  letterKey,
  type Plan,
  plan,
  type RedriveOptions,
  type RedriveReport,
  redriven,
} from './dead-letters-plan.ts';
import { DEAD_LETTER_GROUP } from './stats.ts';

export type { RedriveOptions, RedriveReport } from './dead-letters-plan.ts';

export async function redrive(
  bus: Bus,
  dlq: string,
  options: RedriveOptions,
  scan: () => Promise<DeadLetter[]>,
): Promise<RedriveReport> {
  const started = performance.now();
  const parkedTopic = `${dlq}.parked`;
  const counts: Counts = {
    scanned: 0,
    redriven: 0,
    parked: 0,
    skipped: 0,
    returned: 0,
    unroutable: 0,
    failed: 0,
    errors: [],
    destinations: {},
    duplicates: 0,
    redrove: new Map(),
  };
  const report = (stopped: RedriveReport['stopped']): RedriveReport => ({
    dryRun: options.dryRun === true,
    scanned: counts.scanned,
    redriven: counts.redriven,
    parked: counts.parked,
    skipped: counts.skipped,
    returned: counts.returned,
    unroutable: counts.unroutable,
    failed: counts.failed,
    duplicates: counts.duplicates,
    errors: counts.errors,
    destinations: counts.destinations,
    parkedTopic,
    stopped,
    durationMs: Math.round(performance.now() - started),
  });
  if (options.dryRun) {
    for (const letter of await scan()) {
      const planned = plan(letter, options, parkedTopic);
      // What the real run would find failed, counted so here too.
      const dropped = planned.action === 'redrive' ? bodyDropped(letter.headers) : undefined;
      if (dropped) fail(counts, dropped);
      else if (planned.action === 'redrive' && options.transform !== undefined && !letter.valid) {
        fail(counts, new Error('not a valid event: transform cannot read it'));
      } else count(counts, planned);
    }
    return report('drained');
  }
  return report(await run(bus, dlq, options, parkedTopic, counts));
}

/** Consume the DLQ and republish until it is drained (idle), aborted, or the bus closes. */
async function run(
  bus: Bus,
  dlq: string,
  options: RedriveOptions,
  parkedTopic: string,
  counts: Counts,
): Promise<RedriveReport['stopped']> {
  const rate = options.rateLimit;
  const batchSize = Math.max(
    1,
    Math.min(options.batchSize ?? 100, rate === undefined ? Number.POSITIVE_INFINITY : Math.ceil(rate / 10)),
  );
  const inbox: Delivery[] = [];
  /** Given back at the end (skipped, unroutable, failed): held so this run does not see them again. */
  const held: Delivery[] = [];
  let ended = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const poke = () => wake?.();
  const subscription: Subscription = bus
    .consume(dlq, { group: DEAD_LETTER_GROUP, prefetch: Math.max(256, batchSize * 2) })
    .subscribe({
      next: (delivery) => {
        inbox.push(delivery);
        poke();
      },
      error: (error: unknown) => {
        failure = error;
        ended = true;
        poke();
      },
      complete: () => {
        ended = true;
        poke();
      },
    });
  options.signal?.addEventListener('abort', poke, { once: true });
  const started = performance.now();
  let published = 0;
  try {
    for (;;) {
      if (options.signal?.aborted) return 'aborted';
      // Closing: what is in hand goes back now, so close() need not wait for it.
      if (bus.closing) return 'closed';
      if (inbox.length === 0) {
        if (ended) {
          if (failure !== undefined && !bus.closing) throw failure;
          return 'closed';
        }
        const waitMs = counts.scanned === 0 ? (options.startTimeoutMs ?? 10_000) : (options.idleMs ?? 2_000);
        if (!(await arrival(waitMs, (resolve) => (wake = resolve)))) return 'drained';
        continue;
      }
      const batch = inbox.splice(0, batchSize);
      if (rate !== undefined) {
        // Batches of at most a tenth of a second's worth, each no sooner than the rate allows.
        const due = started + ((published + batch.length) / rate) * 1_000 - performance.now();
        if (due > 0) await sleep(due);
      }
      published += await republish(bus, batch, options, parkedTopic, counts, held);
    }
  } finally {
    options.signal?.removeEventListener('abort', poke);
    subscription.unsubscribe();
    // Not taken (skipped, unroutable, failed) or not reached: back to the DLQ as they were.
    await Promise.allSettled([...held, ...inbox.splice(0)].map((delivery) => delivery.nack()));
  }
}

/** Plan a batch, publish it per destination in order, ack each letter once its publish is confirmed. */
async function republish(
  bus: Bus,
  batch: readonly Delivery[],
  options: RedriveOptions,
  parkedTopic: string,
  counts: Counts,
  held: Delivery[],
): Promise<number> {
  const byTopic = new Map<string, { deliveries: Delivery[]; messages: WireMessage[]; plan: Plan }>();
  const inBatch = new Map<string, string>();
  const duplicates: Delivery[] = [];
  for (const delivery of batch) {
    const letter = readDeadLetter(delivery.message, null);
    const before = letter.id === null ? undefined : (counts.redrove.get(letter.id) ?? inBatch.get(letter.id));
    if (before !== undefined) {
      counts.scanned += 1;
      if (letterKey(letter) === before) {
        // The same dead letter again (a broker redelivery): ack it once its twin's publish is confirmed.
        counts.duplicates += 1;
        duplicates.push(delivery);
      } else {
        counts.returned += 1;
        held.push(delivery);
      }
      continue;
    }
    const planned = plan(letter, options, parkedTopic);
    if ((planned.action === 'redrive' || planned.action === 'park') && letter.id !== null) {
      inBatch.set(letter.id, letterKey(letter));
    }
    if (planned.action === 'skip' || planned.action === 'unroutable') {
      count(counts, planned);
      held.push(delivery);
      continue;
    }
    const to = planned.to;
    let message: WireMessage;
    try {
      message = planned.action === 'park' ? delivery.message : await redriven(delivery.message, options);
    } catch (error) {
      fail(counts, error);
      held.push(delivery);
      continue;
    }
    let group = byTopic.get(to);
    if (group === undefined) {
      group = { deliveries: [], messages: [], plan: planned };
      byTopic.set(to, group);
    }
    group.deliveries.push(delivery);
    group.messages.push(message);
  }
  let published = 0;
  for (const [topic, group] of byTopic) {
    try {
      if (group.plan.action === 'park') await keepDeadLetters(bus.transport, topic);
      await bus.publishWire(topic, group.messages);
    } catch (error) {
      // Not republished, not acked: give every letter still in hand back, and stop.
      await Promise.allSettled(
        [...[...byTopic.values()].flatMap((g) => g.deliveries), ...duplicates].map((delivery) =>
          delivery.nack(),
        ),
      );
      throw error;
    }
    count(counts, group.plan, group.messages.length);
    published += group.messages.length;
    await Promise.all(group.deliveries.map((delivery) => delivery.ack()));
  }
  for (const [id, redrives] of inBatch) counts.redrove.set(id, redrives);
  await Promise.all(duplicates.map((delivery) => delivery.ack()));
  return published;
}

function arrival(ms: number, register: (resolve: () => void) => void): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    register(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
