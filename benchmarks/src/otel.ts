// What @switchyard/otel costs: memory:// through handle() with no instrumentation, with the hook
// installed but no OpenTelemetry SDK (the API's no-op providers), and with an SDK whose spans go to
// an in-memory exporter (metrics to a MeterProvider nobody collects from). Each round runs each mode
// in a fresh process (an SDK's context manager is global), in the order ABC, CBA, ABC, ...
// Prints progress lines, then one line "RESULT <json>" for main.ts.
//   node --conditions=@switchyard/source benchmarks/src/otel.ts [events] [rounds]
// One mode, one round (what the orchestrator spawns):
//   node --conditions=@switchyard/source benchmarks/src/otel.ts --mode none|noop|sdk [events]
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import {
  InMemorySpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import {
  connect,
  type Delivery,
  exponentialBackoff,
  handle,
  type Outcome,
} from '../../packages/core/src/index.ts';
import { Processings } from '../../packages/core/src/ops/instrumentation.ts';
import { instrument } from '../../packages/otel/src/index.ts';
import { median } from './measure.ts';

// sampled: the sdk mode with 1 % of traces sampled (ParentBased(TraceIdRatio)), for comparison.
const MODES = ['none', 'noop', 'sdk', 'sampled'] as const;
type Mode = (typeof MODES)[number];
const KEYS = 1_024;
const BATCH = 1_000;
const payload = { pad: 'x'.repeat(1024 - 40), n: 0 };

/**
 * Events per second of wall time, and per second of this process's CPU time (user + system, GC
 * threads included): on a machine shared with other work the CPU figure is the steadier one.
 */
interface Round {
  consume: number;
  consumeCpu: number;
  publish: number;
  /** sdk mode: CPU µs of one bare SDK span (start with the same attributes and a link, an event, end, export). */
  spanFloorUs?: number;
}

/** What the SDK itself costs per span, nothing of Switchyard's around it: the floor of the sdk mode. */
function spanFloor(tracerProvider: TracerProvider, exporter: InMemorySpanExporter, n: number): number {
  const tracer = tracerProvider.getTracer('floor');
  const link = {
    context: { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 },
  };
  const attributes = {
    'messaging.system': 'memory',
    'messaging.destination.name': 'bench',
    'messaging.consumer.group.name': 'g',
    'messaging.operation.type': 'process',
    'messaging.operation.name': 'process',
    'messaging.message.id': 'id',
    'messaging.message.conversation_id': 'id',
    'messaging.message.body.size': 1024,
  };
  const cpu = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const span = tracer.startSpan('process bench', { kind: 4, attributes, links: [link] });
    span.addEvent('attempt', { 'switchyard.attempt': 1 });
    span.end();
    if (i % 4_096 === 0) exporter.reset();
  }
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / n;
}

/** One round of one mode: publish `events`, then time handle() from subscribe to the last ack. */
async function round(mode: Mode, events: number, name: string = mode): Promise<Round> {
  let exporter: InMemorySpanExporter | undefined;
  let tracerProvider: TracerProvider | undefined;
  const bus = await connect({ url: `memory://otel-bench-${name}`, source: 'bench' });
  if (mode === 'noop') instrument(bus);
  if (mode === 'sdk' || mode === 'sampled') {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    exporter = new InMemorySpanExporter();
    tracerProvider = new TracerProvider({
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
      ...(mode === 'sampled'
        ? { sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.01) }) }
        : {}),
    });
    instrument(bus, {
      tracerProvider,
      meterProvider: new MeterProvider(),
    });
  }
  await bus.provision('bench', { groups: ['g'] });
  let start = performance.now();
  for (let i = 0; i < events; i += BATCH) {
    const batch = [];
    for (let j = i; j < Math.min(events, i + BATCH); j++)
      batch.push({ type: 'bench.event', data: { ...payload, n: j }, key: `k-${j % KEYS}` });
    await bus.publishBatch('bench', batch);
    exporter?.reset();
  }
  const publish = events / ((performance.now() - start) / 1_000);

  let acked = 0;
  let others = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  start = performance.now();
  const cpu = process.cpuUsage();
  const subscription = bus
    .consume<typeof payload>('bench', { group: 'g', prefetch: 256 })
    .pipe(
      handle(
        (event) => {
          if (event.data.n < 0) throw new Error('never');
        },
        {
          concurrency: 16,
          timeoutMs: 5_000,
          retry: { maxAttempts: 3, backoff: exponentialBackoff({ initialMs: 10, maxMs: 100 }) },
          deadLetter: { topic: 'bench.dlq' },
        },
      ),
    )
    .subscribe((o) => {
      if (o.kind !== 'acked') others += 1;
      else if (++acked === events) done();
      // The exporter keeps every span: drop them as they come, or memory, not tracing, is measured.
      else if (exporter !== undefined && acked % 4_096 === 0) exporter.reset();
    });
  await finished;
  const consume = events / ((performance.now() - start) / 1_000);
  const used = process.cpuUsage(cpu);
  const consumeCpu = events / ((used.user + used.system) / 1e6);
  if (others !== 0) throw new Error(`${others} events not acked`);
  subscription.unsubscribe();
  await bus.close({ drainTimeoutMs: 1_000 });
  const floor =
    mode === 'sdk' && tracerProvider && exporter
      ? { spanFloorUs: spanFloor(tracerProvider, exporter, events) }
      : {};
  return { consume, consumeCpu, publish, ...floor };
}

function child(mode: Mode, events: number): Promise<Round> {
  return new Promise((resolve, reject) => {
    const proc = spawn(
      process.execPath,
      ['--conditions=@switchyard/source', fileURLToPath(import.meta.url), '--mode', mode, String(events)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
    });
    proc.on('error', reject);
    proc.on('close', (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim().split('\n').pop()!))
        : reject(new Error(`${mode} exited ${code}`)),
    );
  });
}

const fmt = (n: number) => Math.round(n).toLocaleString('en');

/**
 * The hook without an SDK, timed directly: what handle() adds per delivery when the bus has the
 * instrumentation but there is no SDK (read it, ask it, get nothing, run; then the outcome check),
 * against calling the attempt straight. ns per delivery, median of alternated runs.
 */
async function hookCost(iterations: number): Promise<number> {
  const bus = instrument(await connect({ url: 'memory://otel-bench-hook', source: 'bench' }));
  const delivery = { origin: bus, topic: 'bench', group: 'g', settled: true } as unknown as Delivery;
  const outcome = { kind: 'acked', delivery } as unknown as Outcome;
  const processings = new Processings();
  let sink = 0;
  const attempt = (_d: Delivery, n: number) => n;
  const straight = () => {
    for (let i = 0; i < iterations; i++) sink += attempt(delivery, 1);
  };
  const hooked = () => {
    for (let i = 0; i < iterations; i++) {
      const instrumentation = delivery.origin.instrumentation;
      sink +=
        instrumentation !== undefined
          ? processings.run(instrumentation, delivery, 1, attempt)
          : attempt(delivery, 1);
      processings.outcome(outcome);
    }
  };
  const time = (work: () => void) => {
    const start = process.hrtime.bigint();
    work();
    return Number(process.hrtime.bigint() - start) / iterations;
  };
  const added: number[] = [];
  for (let r = 0; r < 7; r++) {
    const a = time(straight);
    const b = time(hooked);
    if (r > 0) added.push(b - a); // the first pair warms the JIT up
  }
  await bus.close();
  if (sink === 0) throw new Error('unreachable');
  return median(added);
}

if (process.argv[2] === '--hook-cost') {
  console.log(JSON.stringify({ ns: await hookCost(Number(process.argv[3] ?? 2_000_000)) }));
} else if (process.argv[2] === '--mode') {
  const mode = process.argv[3] as Mode;
  if (!MODES.includes(mode)) throw new Error(`--mode is one of ${MODES.join(', ')}`);
  console.log(JSON.stringify(await round(mode, Number(process.argv[4] ?? 100_000))));
} else {
  const events = Number(process.argv[2] ?? 100_000);
  const rounds = Number(process.argv[3] ?? 5);
  const runs: Record<Mode, Round[]> = { none: [], noop: [], sdk: [], sampled: [] };
  for (let r = 0; r < rounds; r++) {
    // ABC, CBA, ...: a machine that warms up or slows down over the run favours no mode.
    const order = r % 2 === 0 ? MODES : [...MODES].reverse();
    const line: string[] = [];
    for (const mode of order) {
      const run = await child(mode, events);
      runs[mode].push(run);
      line.push(`${mode} ${fmt(run.consume)} (${fmt(run.consumeCpu)} per CPU-s)`);
    }
    // Progress on stderr (main.ts shows it as it comes); the summary on stdout.
    console.error(`round ${r + 1}: handle() events/s ${line.join(', ')}`);
  }
  // The hook without an SDK, finer than throughput on a shared machine can tell: timed directly.
  const hook = await new Promise<{ ns: number }>((resolve, reject) => {
    const proc = spawn(
      process.execPath,
      ['--conditions=@switchyard/source', fileURLToPath(import.meta.url), '--hook-cost'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
    });
    proc.on('error', reject);
    proc.on('close', (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim().split('\n').pop()!))
        : reject(new Error(`hook cost exited ${code}`)),
    );
  });
  const figure = (mode: Mode, key: Exclude<keyof Round, 'spanFloorUs'>) =>
    median(runs[mode].map((run) => run[key]));
  // Each round's modes ran side by side: the median of the per-round ratios is the least noisy figure.
  const ratio = (mode: Mode, key: Exclude<keyof Round, 'spanFloorUs'>) =>
    median(runs[mode].map((run, r) => run[key] / runs.none[r]![key]));
  const result = {
    events,
    rounds,
    ratio: {
      noop: ratio('noop', 'consume'),
      sdk: ratio('sdk', 'consume'),
      noopCpu: ratio('noop', 'consumeCpu'),
      sdkCpu: ratio('sdk', 'consumeCpu'),
      sampled: ratio('sampled', 'consume'),
      sampledCpu: ratio('sampled', 'consumeCpu'),
    },
    consume: {
      none: figure('none', 'consume'),
      noop: figure('noop', 'consume'),
      sdk: figure('sdk', 'consume'),
      sampled: figure('sampled', 'consume'),
    },
    consumeCpu: {
      none: figure('none', 'consumeCpu'),
      noop: figure('noop', 'consumeCpu'),
      sdk: figure('sdk', 'consumeCpu'),
      sampled: figure('sampled', 'consumeCpu'),
    },
    publish: {
      none: figure('none', 'publish'),
      noop: figure('noop', 'publish'),
      sdk: figure('sdk', 'publish'),
    },
    /** CPU µs per event of handle() without instrumentation, and of one bare SDK span. */
    perEventUs: {
      none: 1e6 / figure('none', 'consumeCpu'),
      sdkSpan: median(runs.sdk.map((run) => run.spanFloorUs ?? Number.NaN)),
    },
    /** The hook without an SDK timed directly: ns per delivery, and that as a share of handle()'s CPU per event. */
    hook: { ns: hook.ns, share: hook.ns / 1_000 / (1e6 / figure('none', 'consumeCpu')) },
    runs,
  };
  const overhead = (r: number) => `${((1 - r) * 100).toFixed(1)} %`;
  console.log(
    `memory:// handle() median events/s: none ${fmt(result.consume.none)}, hook without SDK ${fmt(result.consume.noop)}, in-memory exporter ${fmt(result.consume.sdk)}`,
  );
  console.log(
    `overhead, median of per-round ratios (wall / CPU time): hook without SDK ${overhead(result.ratio.noop)} / ${overhead(result.ratio.noopCpu)}, timed directly ${result.hook.ns.toFixed(1)} ns per delivery = ${(result.hook.share * 100).toFixed(2)} % (target ≤ 2 %); in-memory exporter ${overhead(result.ratio.sdk)} / ${overhead(result.ratio.sdkCpu)} (target ≤ 10 %); sampling 1 % ${overhead(result.ratio.sampled)} / ${overhead(result.ratio.sampledCpu)}`,
  );
  console.log(
    `CPU per event: handle() alone ${result.perEventUs.none.toFixed(1)} µs; one bare SDK span (start, attributes, link, event, end, in-memory export) ${result.perEventUs.sdkSpan.toFixed(1)} µs, ${((result.perEventUs.sdkSpan / result.perEventUs.none) * 100).toFixed(0)} % of it before any of ours`,
  );
  console.log(`RESULT ${JSON.stringify(result)}`);
}
