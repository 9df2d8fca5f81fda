// SQS publish-to-handler latency split into phases, for the sides the bench compares (benchmarks/README.md):
//   node --conditions=@switchyard/source benchmarks/src/sqs-latency.ts [rounds] [sides] [seconds] [rate] [mode]
// sides: comma-separated, default raw,switchyard,peer:sqs-consumer,peer:mq-toolkit; `sy-old` is Switchyard
// on a copy of packages/sqs/src placed at packages/sqs/.ab-old (copy it before a change, delete it after).
// mode `latency` (default): each round runs the bench's latency scenario (open loop at `rate`/s for
//   `seconds`, the first 10 % not counted) once per side, all sides in this process, the order
//   reversed every other round; prints each round, the medians of the rounds' p50 and p99, and all
//   rounds pooled.
// mode `bench`: one side (the first), the bench worker's whole run (single, batched, end to end, then
//   latency) in this process, so a fresh process per call, as `pnpm bench` runs it.
// mode `single`: the bench's publish single (16 lanes) instead, events/s.
// Every SQS request of the process is timed through the SDK (SQSClient.send and a middleware around
// the HTTP handler), matched to events by the publish time each body starts with. Phases, in ms from
// just before publish(): `toSend` to the SendMessage* that carries it being passed to the SDK,
// `toWire` to that request reaching the HTTP handler (signed); then `broker` from there to the
// headers of the ReceiveMessage reply that brought it, `parse` to that reply parsed, `handOut` to
// the handler's start. `total` is the bench's latency figure.
import { PerformanceObserver } from 'node:perf_hooks';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Consuming, Driver, Item, Side } from './driver.ts';
import { sleep } from './measure.ts';
import { peer } from './peers/index.ts';
import { runScenarios } from './scenarios.ts';
import { pair } from './sqs.ts';
import { SwitchyardDriver } from './switchyard-driver.ts';

const rounds = Number(process.argv[2] ?? 6);
const sides = (process.argv[3] ?? 'raw,switchyard,peer:sqs-consumer,peer:mq-toolkit').split(',') as Side[];
const seconds = Number(process.argv[4] ?? 4);
const rate = Number(process.argv[5] ?? 200);
const PROBE = 1;
const mode = process.argv[6] ?? 'latency';

/** The publish stamp of an event from an SQS body: base64 bytes, or a peer's JSON with them in `b`. */
function stampOf(body: string | undefined): number | undefined {
  if (!body) return undefined;
  let at = 0;
  if (body.startsWith('{')) {
    at = body.indexOf('"b":"');
    if (at < 0) return undefined;
    at += 5;
  }
  const bytes = Buffer.from(body.slice(at, at + 12), 'base64');
  return bytes.length >= 8 ? bytes.readDoubleBE(0) : undefined;
}

const toSend = new Map<number, number>();
const onWire = new Map<number, number>();
const repliedAt = new Map<number, number>();
const parsedAt = new Map<number, number>();
const headersAt = new WeakMap<object, number>();
const instrumented = new WeakSet<object>();
type Middleware = (
  next: (args: { input: object; request?: { body?: unknown } }) => Promise<unknown>,
  context: { commandName?: string },
) => (args: { input: object; request?: { body?: unknown } }) => Promise<unknown>;

// Innermost (deserialize step, low priority): right around the HTTP handler, after signing.
const wireTimer: Middleware = (next, context) => async (args) => {
  const name = context.commandName;
  if (name === 'SendMessageCommand' || name === 'SendMessageBatchCommand') {
    const now = performance.now();
    const raw = args.request?.body;
    const body = JSON.parse(typeof raw === 'string' ? raw : new TextDecoder().decode(raw as Uint8Array)) as {
      MessageBody?: string;
      Entries?: Array<{ MessageBody?: string }>;
    };
    for (const entry of body.Entries ?? [body]) {
      const stamp = stampOf(entry.MessageBody);
      if (stamp !== undefined) onWire.set(stamp, now);
    }
  }
  const out = await next(args);
  if (name === 'ReceiveMessageCommand') headersAt.set(args.input, performance.now());
  return out;
};

const send = SQSClient.prototype.send;
SQSClient.prototype.send = function (this: SQSClient, command: never, ...rest: never[]) {
  const calledAt = performance.now();
  if (!instrumented.has(this)) {
    instrumented.add(this);
    (this.middlewareStack as unknown as { add(m: Middleware, o: object): void }).add(wireTimer, {
      step: 'deserialize',
      priority: 'low',
      name: 'benchWireTimer',
    });
  }
  const sent = (send as (c: never, ...r: never[]) => Promise<{ Messages?: Array<{ Body?: string }> }>).call(
    this,
    command,
    ...rest,
  );
  const input = (command as { input: object }).input;
  const kind = (command as object).constructor.name;
  if (kind === 'SendMessageCommand' || kind === 'SendMessageBatchCommand') {
    const body = input as { MessageBody?: string; Entries?: Array<{ MessageBody?: string }> };
    for (const entry of body.Entries ?? [body]) {
      const stamp = stampOf(entry.MessageBody);
      if (stamp !== undefined) toSend.set(stamp, calledAt);
    }
  }
  if (kind !== 'ReceiveMessageCommand') return sent as never;
  return sent.then((reply) => {
    const now = performance.now();
    const headers = headersAt.get(input) ?? now;
    for (const message of reply.Messages ?? []) {
      const stamp = stampOf(message.Body);
      if (stamp === undefined) continue;
      repliedAt.set(stamp, headers);
      parsedAt.set(stamp, now);
    }
    return reply;
  }) as never;
} as typeof send;

function item(i: number, kind = 0): Item {
  const body = new Uint8Array(1024);
  body.fill(0x61, 9);
  new DataView(body.buffer).setFloat64(0, performance.now());
  body[8] = kind;
  return { body, key: `k${i % 64}` };
}

const PHASES = ['total', 'toWire', 'toSend', 'broker', 'parse', 'handOut'] as const;

/** An empty list of samples for every phase. */
const noSamples = (): Record<Phase, number[]> =>
  Object.fromEntries(PHASES.map((phase) => [phase, []])) as unknown as Record<Phase, number[]>;

let gcMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcMs += entry.duration;
}).observe({ entryTypes: ['gc'] });
type Phase = (typeof PHASES)[number];

function percentile(values: readonly number[], p: number): number {
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const median = (values: readonly number[]) => percentile(values, 50);

const cost = { cpuUs: 0, gcMs: 0 };

/** Split one handled event's latency into its phases (see the top of this file). */
function trace(body: Uint8Array, samples: Record<Phase, number[]>, now = performance.now()): void {
  const stamp = new DataView(body.buffer, body.byteOffset, body.byteLength).getFloat64(0);
  const wire = onWire.get(stamp);
  const replied = repliedAt.get(stamp);
  const parsed = parsedAt.get(stamp);
  const called = toSend.get(stamp);
  samples.total.push(now - stamp);
  if (wire === undefined || replied === undefined || parsed === undefined || called === undefined) return;
  samples.toSend.push(called - stamp);
  samples.toWire.push(wire - stamp);
  samples.broker.push(replied - wire);
  samples.parse.push(parsed - replied);
  samples.handOut.push(now - parsed);
}

async function round(side: Side, driver: Driver, topic: string): Promise<Record<Phase, number[]>> {
  const samples = noSamples();
  const total = Math.round(rate * seconds);
  const warm = Math.floor(total / 10);
  let probed = false;
  let arrived = 0;
  let done: () => void = () => undefined;
  const all = new Promise<void>((resolve) => {
    done = resolve;
  });
  await driver.prepare(topic, `${topic}-g`);
  const consuming: Consuming = await driver.consume(
    topic,
    `${topic}-g`,
    { prefetch: 256, concurrency: 16 },
    (body) => {
      const now = performance.now();
      if (body[8] === PROBE) {
        probed = true;
        return;
      }
      if (arrived++ >= warm) trace(body, samples, now);
      if (arrived === total) done();
    },
  );
  for (let i = 0; !probed; i++) {
    if (i % 10 === 0) await driver.publish(topic, item(i, PROBE));
    await sleep(20);
  }
  const publishing: Promise<void>[] = [];
  const startedAt = performance.now();
  const cpu = process.cpuUsage();
  const gcBefore = gcMs;
  for (let sent = 0; sent < total; ) {
    const due = Math.min(total, Math.floor(((performance.now() - startedAt) / 1_000) * rate) + 1);
    for (; sent < due; sent++) publishing.push(driver.publish(topic, item(sent)));
    await sleep(1);
  }
  await Promise.all(publishing);
  await all;
  const used = process.cpuUsage(cpu);
  cost.cpuUs = (used.user + used.system) / total;
  cost.gcMs = gcMs - gcBefore;
  await consuming.stop();
  onWire.clear();
  toSend.clear();
  repliedAt.clear();
  parsedAt.clear();
  if (samples.toWire.length < samples.total.length)
    console.error(`${side}: ${samples.total.length - samples.toWire.length} events not traced`);
  return samples;
}

const prefix = `lat-${Date.now().toString(36)}`;
const drivers = new Map<Side, Driver>();
/** `sy-old`: Switchyard on a copy of @switchyard/sqs at packages/sqs/.ab-old (an A/B of a change). */
async function create(side: Side): Promise<Driver> {
  if (side.startsWith('peer:')) return peer(side as `peer:${string}`).create();
  if (side !== ('sy-old' as Side)) return pair.create(side);
  const url = `sqs://?endpoint=${encodeURIComponent(process.env.SQS_ENDPOINT ?? 'http://127.0.0.1:4566')}&region=us-east-1&fanout=none`;
  const old = '../../packages/sqs/.ab-old/transport.ts';
  return new SwitchyardDriver({ url }, async () => (await import(old)).SqsTransport.create(new URL(url)));
}

for (const side of sides) {
  const driver = await create(side);
  await driver.open();
  drivers.set(side, driver);
}
const topics = new Map<Side, string[]>(sides.map((s) => [s, []]));

/** Close every side's driver and delete the queues its rounds used. */
async function closeAll(): Promise<void> {
  for (const [side, driver] of drivers) {
    await driver.close().catch((error: unknown) => console.error('close:', error));
    await pair.cleanup(
      side.startsWith('raw') || side.startsWith('peer:') ? 'raw' : 'switchyard',
      topics.get(side)!,
      '',
    );
  }
}

type Figures = Record<Phase, { p50: number; p99: number }> & { cpuUs: number; gcMs: number };
const results = new Map<Side, Figures[]>(sides.map((s) => [s, []]));
const pooled = new Map<Side, Record<Phase, number[]>>(sides.map((s) => [s, noSamples()]));
const fixed = (n: number) => n.toFixed(2);
if (mode === 'bench') {
  // The bench's whole scenario run for one side (single, batched, end to end, then latency), as its
  // worker does, with the latency topic's handler traced per phase.
  const side = sides[0]!;
  const driver = drivers.get(side)!;
  const phases = noSamples();
  const traced: Driver = {
    open: () => driver.open(),
    prepare: (topic, group) => driver.prepare(topic, group),
    publish: (topic, i) => driver.publish(topic, i),
    publishBatch: (topic, items) => driver.publishBatch(topic, items),
    close: () => driver.close(),
    consume: (topic, group, settings, handler) =>
      driver.consume(topic, group, settings, (body) => {
        if (topic.endsWith('-latency') && body[8] !== PROBE) trace(body, phases);
        return handler(body);
      }),
  };
  const names = ['single', 'batch', 'e2e', 'latency', 'control', 'backlog'].map((n) => `${prefix}-${n}`);
  try {
    const result = await runScenarios(
      traced,
      (n) => `${prefix}-${n}`,
      `${prefix}-g`,
      {
        events: 3000,
        singleEvents: 500,
        inFlight: 16,
        batch: 100,
        size: 1024,
        rate,
        latencySeconds: seconds,
        backlog: 100,
        slowHandlerMs: 5,
        slowSeconds: 3,
        consume: { prefetch: 256, concurrency: 16 },
      },
      () => undefined,
    );
    const warm = Math.floor(phases.total.length / 10);
    console.error(
      `round 1 ${side.padEnd(18)} bench p50/p99 ${fixed(result.latencyP50)}/${fixed(result.latencyP99)}  ${PHASES.map((p) => `${p} ${fixed(percentile(phases[p].slice(warm), 50))}/${fixed(percentile(phases[p].slice(warm), 99))}`).join('  ')}`,
    );
  } finally {
    await driver.close().catch(() => undefined);
    await pair.cleanup(side.startsWith('raw') || side.startsWith('peer:') ? 'raw' : 'switchyard', names, '');
  }
  process.exit(0);
}
if (mode === 'single') {
  const perSecond = new Map<Side, number[]>(sides.map((s) => [s, []]));
  try {
    for (let r = 0; r < rounds; r++) {
      for (const side of r % 2 === 0 ? sides : [...sides].reverse()) {
        const topic = `${prefix}-${side.replace(/\W/g, '')}-s${r}`;
        topics.get(side)!.push(topic);
        const driver = drivers.get(side)!;
        await driver.prepare(topic, `${topic}-g`);
        const events = Math.round(rate * seconds);
        let next = 0;
        const cpu = process.cpuUsage();
        const startedAt = performance.now();
        await Promise.all(
          Array.from({ length: 16 }, async () => {
            for (let i = next++; i < events; i = next++) await driver.publish(topic, item(i));
          }),
        );
        const rateNow = events / ((performance.now() - startedAt) / 1000);
        const used = process.cpuUsage(cpu);
        perSecond.get(side)!.push(rateNow);
        console.error(
          `round ${r + 1} ${side.padEnd(18)} ${rateNow.toFixed(0)} ev/s  cpu ${((used.user + used.system) / events).toFixed(0)} µs/ev`,
        );
      }
    }
  } finally {
    await closeAll();
  }
  for (const side of sides)
    console.log(`${side.padEnd(18)} publish single median ${median(perSecond.get(side)!).toFixed(0)} ev/s`);
  process.exit(0);
}
try {
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) {
      const topic = `${prefix}-${side.replace(/\W/g, '')}-${r}`;
      topics.get(side)!.push(topic);
      const samples = await round(side, drivers.get(side)!, topic);
      for (const phase of PHASES) pooled.get(side)![phase].push(...samples[phase]);
      const figures = {
        ...Object.fromEntries(
          PHASES.map((phase) => [
            phase,
            { p50: percentile(samples[phase], 50), p99: percentile(samples[phase], 99) },
          ]),
        ),
        ...cost,
      } as Figures;
      results.get(side)!.push(figures);
      console.error(
        `round ${r + 1} ${side.padEnd(18)} ${PHASES.map((p) => `${p} ${fixed(figures[p].p50)}/${fixed(figures[p].p99)}`).join('  ')}  cpu ${cost.cpuUs.toFixed(0)} µs/ev  gc ${fixed(cost.gcMs)} ms`,
      );
    }
  }
} finally {
  await closeAll();
}
const load = (await import('node:os')).loadavg()[0]!.toFixed(1);
console.log(`medians over ${rounds} rounds of each round's p50 / p99 (ms); load ${load} at the end`);
for (const side of sides) {
  const rs = results.get(side)!;
  console.log(
    `${side.padEnd(18)} ${PHASES.map((p) => `${p} ${fixed(median(rs.map((x) => x[p].p50)))} / ${fixed(median(rs.map((x) => x[p].p99)))}`).join('   ')}   cpu ${median(rs.map((x) => x.cpuUs)).toFixed(0)} µs/ev  gc ${fixed(median(rs.map((x) => x.gcMs)))} ms/round`,
  );
}
console.log('all rounds pooled: p50 / p90 / p95 / p99 (ms)');
for (const side of sides) {
  const all = pooled.get(side)!;
  console.log(
    `${side.padEnd(18)} ${PHASES.map((p) => `${p} ${[50, 90, 95, 99].map((q) => fixed(percentile(all[p], q))).join(' / ')}`).join('   ')}`,
  );
}
process.exit(0);
