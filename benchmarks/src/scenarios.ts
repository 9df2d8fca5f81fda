// The workloads, written once against `Driver` so the raw client and Switchyard do exactly the same work.
import type { ConsumeSettings, Driver, Item } from './driver.ts';
import { Histogram, progress, RssSampler, sleep } from './measure.ts';

export interface ScenarioSettings {
  /** Events for the batched publish and end-to-end figures. */
  readonly events: number;
  /** Events for the single-publish figure (slower: one confirm each). */
  readonly singleEvents: number;
  /** Single publishes in flight at once, each awaited before the next one of its lane. */
  readonly inFlight: number;
  readonly batch: number;
  readonly size: number;
  /** Latency run: events per second, for `latencySeconds`. */
  readonly rate: number;
  readonly latencySeconds: number;
  readonly backlog: number;
  /** Slow consumer: each handler sleeps this long, for `slowSeconds` in all. */
  readonly slowHandlerMs: number;
  readonly slowSeconds: number;
  readonly consume: ConsumeSettings;
}

export interface ScenarioResult {
  publishSingle: number;
  publishBatch: number;
  e2e: number;
  latencyP50: number;
  latencyP99: number;
  latencyCount: number;
  peakRss: number;
  backlogPublish: number;
}

const NORMAL = 0;
const PROBE = 1;
const KEYS = 64;

/** `size` bytes: the publish time (float64, performance.now()) at 0, the kind at 8, then filler. */
function item(i: number, size: number, kind = NORMAL): Item {
  const body = new Uint8Array(Math.max(16, size));
  body.fill(0x61, 9);
  new DataView(body.buffer).setFloat64(0, performance.now());
  body[8] = kind;
  return { body, key: `k${i % KEYS}` };
}

const stampOf = (body: Uint8Array) =>
  new DataView(body.buffer, body.byteOffset, body.byteLength).getFloat64(0);

function eventsPerSecond(count: number, startedAt: number): number {
  return count / ((performance.now() - startedAt) / 1_000);
}

async function publishAll(driver: Driver, topic: string, count: number, batch: number, size: number) {
  for (let i = 0; i < count; i += batch) {
    const items: Item[] = [];
    for (let j = i; j < Math.min(count, i + batch); j++) items.push(item(j, size));
    await driver.publishBatch(topic, items);
  }
}

/** A consumer whose handler counts ordinary messages, notes probes, and calls `onBody` for each ordinary one. */
class Counter {
  seen = 0;
  probed = false;
  #target = Number.POSITIVE_INFINITY;
  #done: (() => void) | undefined;
  readonly onBody: ((body: Uint8Array) => void | Promise<void>) | undefined;

  constructor(onBody?: (body: Uint8Array) => void | Promise<void>) {
    this.onBody = onBody;
  }

  readonly handler = (body: Uint8Array): void | Promise<void> => {
    if (body[8] === PROBE) {
      this.probed = true;
      return;
    }
    const result = this.onBody?.(body);
    if (++this.seen >= this.#target) this.#done?.();
    return result;
  };

  /** Resolves when `count` ordinary messages were handled (counting from now), or rejects after `timeoutMs`. */
  reach(count: number, timeoutMs: number): Promise<void> {
    this.#target = count;
    if (this.seen >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`only ${this.seen} of ${count} messages arrived in ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.#done = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/** Publish probes until one comes back: the consumer has joined and is fetching. */
async function warmUp(driver: Driver, topic: string, counter: Counter, size: number): Promise<void> {
  const deadline = performance.now() + 60_000;
  for (let i = 0; !counter.probed; i++) {
    if (performance.now() > deadline) throw new Error(`consumer on ${topic} not ready after 60 s`);
    if (i % 10 === 0) await driver.publish(topic, item(i, size, PROBE));
    await sleep(20);
  }
}

export async function runScenarios(
  driver: Driver,
  topicOf: (scenario: string) => string,
  group: string,
  s: ScenarioSettings,
  say: (text: string) => void = progress,
): Promise<ScenarioResult> {
  const rss = new RssSampler().start();

  say(`publish single (${s.singleEvents}, ${s.inFlight} in flight)`);
  const single = topicOf('single');
  await driver.prepare(single, group);
  let next = 0;
  let startedAt = performance.now();
  await Promise.all(
    Array.from({ length: s.inFlight }, async () => {
      for (let i = next++; i < s.singleEvents; i = next++) await driver.publish(single, item(i, s.size));
    }),
  );
  const publishSingle = eventsPerSecond(s.singleEvents, startedAt);

  say(`publish batched (${s.events} in batches of ${s.batch})`);
  const batched = topicOf('batch');
  await driver.prepare(batched, group);
  startedAt = performance.now();
  await publishAll(driver, batched, s.events, s.batch, s.size);
  const publishBatch = eventsPerSecond(s.events, startedAt);

  say(`end to end (${s.events})`);
  const e2eTopic = topicOf('e2e');
  await driver.prepare(e2eTopic, group);
  const e2eCounter = new Counter();
  let consuming = await driver.consume(e2eTopic, group, s.consume, e2eCounter.handler);
  await warmUp(driver, e2eTopic, e2eCounter, s.size);
  startedAt = performance.now();
  const reached = e2eCounter.reach(s.events, 300_000);
  await publishAll(driver, e2eTopic, s.events, s.batch, s.size);
  await reached;
  const e2e = eventsPerSecond(s.events, startedAt);
  await consuming.stop();

  const total = Math.round(s.rate * s.latencySeconds);
  say(`latency (${s.rate}/s for ${s.latencySeconds} s)`);
  const latencyTopic = topicOf('latency');
  await driver.prepare(latencyTopic, group);
  const histogram = new Histogram();
  const warm = Math.floor(total / 10);
  let arrived = 0;
  const latencyCounter = new Counter((body) => {
    if (arrived++ >= warm) histogram.record(performance.now() - stampOf(body));
  });
  consuming = await driver.consume(latencyTopic, group, s.consume, latencyCounter.handler);
  await warmUp(driver, latencyTopic, latencyCounter, s.size);
  const allArrived = latencyCounter.reach(total, 60_000);
  const publishing: Promise<void>[] = [];
  startedAt = performance.now();
  for (let sent = 0; sent < total; ) {
    const due = Math.min(total, Math.floor(((performance.now() - startedAt) / 1_000) * s.rate) + 1);
    for (; sent < due; sent++) publishing.push(driver.publish(latencyTopic, item(sent, s.size)));
    await sleep(1);
  }
  await Promise.all(publishing);
  await allArrived;
  await consuming.stop();
  const peakRss = rss.stop();

  say(`backlog: publishing ${s.backlog} (and a control of ${2 * s.consume.prefetch}) with nobody consuming`);
  await driver.prepare(topicOf('control'), group);
  await publishAll(driver, topicOf('control'), 2 * s.consume.prefetch, s.batch, s.size);
  await driver.prepare(topicOf('backlog'), group);
  startedAt = performance.now();
  await publishAll(driver, topicOf('backlog'), s.backlog, s.batch, s.size);
  const backlogPublish = eventsPerSecond(s.backlog, startedAt);

  return {
    publishSingle,
    publishBatch,
    e2e,
    latencyP50: histogram.percentile(50),
    latencyP99: histogram.percentile(99),
    latencyCount: histogram.count,
    peakRss,
    backlogPublish,
  };
}

export interface SlowResult {
  /** Most memory held after a GC (heapUsed + external) while consuming the control / the backlog. */
  controlHeld: number;
  backlogHeld: number;
  controlRssPeak: number;
  backlogRssPeak: number;
  backlogConsumed: number;
}

/**
 * In a process of its own (so the RSS of the runs before does not hide its growth), a slow consumer
 * first on a control topic of 2 × prefetch events, then on the backlog, each for `slowSeconds`.
 * The control reaches what a running consumer costs whatever the backlog (heap, JIT, buffers up to
 * prefetch); what the backlog adds on top of it is what grows with the backlog.
 */
export async function runSlowConsumer(
  driver: Driver,
  topicOf: (scenario: string) => string,
  group: string,
  s: ScenarioSettings,
  say: (text: string) => void = progress,
): Promise<SlowResult> {
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
  // Retained memory (V8 heap + buffers) right after a full GC, every 250 ms: what the consumer holds,
  // not the garbage a busy process has not collected yet (which makes RSS peaks noisy).
  const retained = () => {
    gc();
    const m = process.memoryUsage();
    return m.heapUsed + m.external;
  };
  const slow = async (topic: string) => {
    await driver.prepare(topic, group); // exists already: this only looks it up (the raw SQS queue URL)
    const rss = new RssSampler().start();
    let held = retained();
    const counter = new Counter(() => sleep(s.slowHandlerMs));
    const consuming = await driver.consume(topic, group, s.consume, counter.handler);
    for (const end = performance.now() + s.slowSeconds * 1_000; performance.now() < end; ) {
      await sleep(250);
      held = Math.max(held, retained());
    }
    const peak = rss.stop();
    await consuming.stop();
    return { peak, held, consumed: counter.seen };
  };
  (globalThis as { gc?: () => void }).gc?.();
  say(`slow consumer on the control topic for ${s.slowSeconds} s`);
  const control = await slow(topicOf('control'));
  say(`slow consumer on the ${s.backlog} backlog for ${s.slowSeconds} s`);
  const backlog = await slow(topicOf('backlog'));
  return {
    controlHeld: control.held,
    backlogHeld: backlog.held,
    controlRssPeak: control.peak,
    backlogRssPeak: backlog.peak,
    backlogConsumed: backlog.consumed,
  };
}
