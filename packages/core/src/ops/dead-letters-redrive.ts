// Redrive: consume the DLQ through DEAD_LETTER_GROUP and republish each dead letter, acking it only
// once its republish is confirmed, so an interrupted redrive resumes where it stopped.
import type { Subscription } from 'rxjs';
import type { Bus } from '../bus.ts';
import { decode, encode } from '../codec.ts';
import type { Delivery } from '../delivery.ts';
import type { SwitchyardEvent } from '../event.ts';
import { keepDeadLetters } from '../policies/dead-letter.ts';
import type { WireMessage } from '../transport.ts';
import { type DeadLetter, readDeadLetter, redriveCountOf } from './dead-letters-letter.ts';
import { DEAD_LETTER_GROUP } from './stats.ts';

export interface RedriveOptions {
  /** Only dead letters it returns true for are redriven; the others are given back untouched. */
  readonly filter?: (letter: DeadLetter) => boolean;
  /** Change an event before it is republished (fix its data, say). Its id is kept whatever it returns. */
  readonly transform?: (event: SwitchyardEvent) => SwitchyardEvent | Promise<SwitchyardEvent>;
  /** Most dead letters republished per second. Default: as fast as the broker confirms. */
  readonly rateLimit?: number;
  /** Only count what would happen, reading without consuming (needs the transport's `peek`). */
  readonly dryRun?: boolean;
  /** A dead letter redriven this many times already goes to the parked topic instead. Default: 3. */
  readonly maxRedrives?: number;
  /** Where redriven events go. Default: the topic each failed on (its `deadlettertopic`). */
  readonly to?: string;
  /** Stop once no dead letter arrived for this long. Default: 2 000 ms. */
  readonly idleMs?: number;
  /** How long to wait for the first dead letter (a consumer group may take seconds to join). Default: 10 000 ms. */
  readonly startTimeoutMs?: number;
  /** Dead letters republished in one publish. Default: 100. */
  readonly batchSize?: number;
  /** Stop early: what is in hand is finished or given back, the rest stays in the DLQ. */
  readonly signal?: AbortSignal;
  /** For `dryRun`: most dead letters read. Default: 10 000. */
  readonly scanLimit?: number;
}

export interface RedriveReport {
  readonly dryRun: boolean;
  /** Dead letters looked at. */
  readonly scanned: number;
  /** Republished to their topic (or `to`). With `dryRun`: would be. */
  readonly redriven: number;
  /** Moved to `parkedTopic`, being past `maxRedrives`. */
  readonly parked: number;
  /** Not matched by `filter`: given back untouched. */
  readonly skipped: number;
  /**
   * Redriven by this run, failed again and dead-lettered meanwhile: given back for the next run
   * (which counts the redrive toward `maxRedrives`) rather than redriven round and round now.
   */
  readonly returned: number;
  /** No `to` and no `deadlettertopic` to send them to: given back. */
  readonly unroutable: number;
  /** The broker delivered a dead letter this run republished already: acked, not sent again. */
  readonly duplicates: number;
  /** `transform` threw (or the letter is not an event it could read): given back. */
  readonly failed: number;
  /** The first few `failed` reasons. */
  readonly errors: readonly string[];
  /** Republished per destination topic. */
  readonly destinations: Readonly<Record<string, number>>;
  readonly parkedTopic: string;
  /** Why it stopped: the DLQ had nothing more, `signal` aborted, or the bus closed. */
  readonly stopped: 'drained' | 'aborted' | 'closed';
  readonly durationMs: number;
}

const ERRORS_KEPT = 10;

interface Counts {
  scanned: number;
  redriven: number;
  parked: number;
  skipped: number;
  returned: number;
  unroutable: number;
  failed: number;
  errors: string[];
  duplicates: number;
  /** Ids this run republished or parked, with which dead letter of that id it was (see `letterKey`). */
  readonly redrove: Map<string, string>;
  destinations: Record<string, number>;
}

type Plan =
  | { readonly action: 'redrive'; readonly to: string }
  | { readonly action: 'park'; readonly to: string }
  | { readonly action: 'skip' }
  | { readonly action: 'unroutable' };

function plan(letter: DeadLetter, options: RedriveOptions, parkedTopic: string): Plan {
  if (options.filter !== undefined && !options.filter(letter)) return { action: 'skip' };
  if (letter.redriveCount >= (options.maxRedrives ?? 3)) return { action: 'park', to: parkedTopic };
  const to = options.to ?? letter.topic;
  return to === null ? { action: 'unroutable' } : { action: 'redrive', to };
}

/**
 * The message republished: the dead letter's event with its id, without the `deadletter*`
 * extensions, with `redrivecount` one more.
 */
export async function redriven(message: WireMessage, options: RedriveOptions): Promise<WireMessage> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) {
    if (!name.startsWith('deadletter')) headers[name] = value;
  }
  const redrives = String(redriveCountOf(message.headers) + 1);
  headers.redrivecount = redrives;
  const cleaned: WireMessage = { headers, body: message.body, key: message.key };
  if (options.transform === undefined) return cleaned;
  const event = decode(cleaned);
  const changed = await options.transform(event);
  const out = encode({
    ...changed,
    id: event.id,
    extensions: { ...changed.extensions, redrivecount: redrives },
  });
  return out;
}

function count(counts: Counts, plan: Plan, letters = 1): void {
  counts.scanned += letters;
  switch (plan.action) {
    case 'redrive':
      counts.redriven += letters;
      counts.destinations[plan.to] = (counts.destinations[plan.to] ?? 0) + letters;
      return;
    case 'park':
      counts.parked += letters;
      return;
    case 'skip':
      counts.skipped += letters;
      return;
    case 'unroutable':
      counts.unroutable += letters;
  }
}

function fail(counts: Counts, error: unknown): void {
  counts.scanned += 1;
  counts.failed += 1;
  if (counts.errors.length < ERRORS_KEPT)
    counts.errors.push(error instanceof Error ? error.message : String(error));
}

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
      if (planned.action === 'redrive' && options.transform !== undefined && !letter.valid) {
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

/** One dead-lettering of an event: a broker's redelivery of it has the same key, a later failure does not. */
function letterKey(letter: DeadLetter): string {
  return `${letter.redriveCount}|${letter.deadLetteredAt ?? ''}`;
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
