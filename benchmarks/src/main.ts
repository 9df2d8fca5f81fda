// pnpm bench [--broker kafka,rabbitmq,sqs,nats,memory] [--events N] [--size B] [--rounds R] ...
// For each broker: the raw client and Switchyard doing the same work, alternating raw/switchyard
// for each round, each side in a fresh process. Then memory:// through handle() (memory-pipeline.ts).
// Table on stdout, progress on stderr, results/<date>.json and results/<date>.svg.
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { resultsChart } from './chart.ts';
import { chartInput } from './chart-input.ts';
import type { Side } from './driver.ts';
import {
  FIGURES,
  MEMORY_FIGURE,
  meets,
  type RoundResult,
  type Row,
  THROUGHPUT_TARGET,
  verdict,
} from './figures.ts';
import { median } from './measure.ts';
import type { OutboxBrokerResult, OutboxSettings } from './outbox.ts';
import { BROKERS, type Broker } from './pairs.ts';
import { PEERS, peer, peersOf } from './peers/index.ts';
import { peerRows, printPeerRows } from './peers/report.ts';
import type { ScenarioResult, ScenarioSettings, SlowResult } from './scenarios.ts';

import type { WorkerInput } from './worker.ts';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const root = here('../../');

const { values: args } = parseArgs({
  options: {
    broker: { type: 'string', multiple: true },
    events: { type: 'string' },
    single: { type: 'string' },
    size: { type: 'string', default: '1024' },
    rounds: { type: 'string', default: '3' },
    backlog: { type: 'string' },
    rate: { type: 'string', default: '200' },
    'latency-seconds': { type: 'string', default: '4' },
    'slow-seconds': { type: 'string', default: '3' },
    'memory-events': { type: 'string', default: '200000' },
    'memory-rounds': { type: 'string', default: '5' },
    'store-events-redis': { type: 'string', default: '100000' },
    'store-events-pg': { type: 'string', default: '30000' },
    'saga-events': { type: 'string', default: '20000' },
    'timer-rate': { type: 'string', default: '1000' },
    'timer-seconds': { type: 'string', default: '5' },
    'outbox-brokers': { type: 'string', default: 'memory,kafka,rabbitmq,sqs,nats' },
    'outbox-memory-events': { type: 'string', default: '100000' },
    'outbox-pg': { type: 'string', default: 'url' },
    'otel-events': { type: 'string', default: '100000' },
    'otel-rounds': { type: 'string', default: '5' },
    'es-singles': { type: 'string', default: '1000' },
    'es-batches': { type: 'string', default: '100' },
    'es-rounds': { type: 'string', default: '3' },
    out: { type: 'string', default: here('../results') },
    'raw-envelope': { type: 'string', default: 'cloudevents' },
    'kafka-client': { type: 'string', default: 'kafkajs' },
    'raw-client': { type: 'string', default: 'kafkajs' },
    peers: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
  allowPositionals: false,
});

if (args.help) {
  process.stdout.write(`pnpm bench [options]: Switchyard against the raw client on each broker, then memory://.
  --broker LIST        kafka,rabbitmq,sqs,nats,memory,stores,saga,outbox,otel,eventstore or all (default all; repeatable)
  --events N           batched publish and end-to-end events (default per broker)
  --single N           single publishes (default per broker)
  --size B             bytes per event (default 1024)
  --rounds R           raw/Switchyard rounds, alternated ABBA (default 3)
  --backlog N          events left for the slow consumer (default 100000)
  --rate N             latency run, events/s (default 200)
  --latency-seconds S  latency run length (default 4)
  --slow-seconds S     slow consumer on control and backlog, each (default 3)
  --memory-events N    memory:// events per round (default 200000)
  --memory-rounds R    memory:// rounds (default 5; a round is about 2 s)
  --store-events-redis N  handle() with the Redis idempotency store (default 100000; REDIS_URL)
  --store-events-pg N     handle() with the PostgreSQL idempotency store (default 30000; DATABASE_URL)
  --saga-events N      saga: events for runSaga() vs handle() on memory:// (default 20000)
  --timer-rate N       saga: new timers per second for the lateness run (default 1000)
  --timer-seconds S    saga: length of the lateness run (default 5)
  --outbox-brokers L   outbox: where the relay publishes (default memory,kafka,rabbitmq,sqs,nats)
  --outbox-memory-events N  outbox: events of the memory:// throughput run (default 100000; brokers use --events)
  --outbox-pg url|private   outbox: DATABASE_URL, or a PostgreSQL cluster of the run's own (default url)
  --otel-events N      otel: memory:// events per round and mode (default 100000)
  --otel-rounds R      otel: rounds of none / hook without SDK / in-memory exporter (default 5)
  --es-singles N       eventstore: single-event appends per round (default 1000)
  --es-batches N       eventstore: 100-event appends per round (default 100)
  --es-rounds R        eventstore: rounds, raw and ours alternated (default 3)
  --out DIR            where <date>.json and <date>.svg go (default benchmarks/results)
  --raw-envelope cloudevents|bare  what the raw side sends besides the body (default cloudevents)
  --kafka-client kafkajs|platformatic  the driver under Switchyard's Kafka side (default kafkajs)
  --raw-client kafkajs|platformatic    the client of Kafka's raw side (default kafkajs)
  --peers              also run the libraries users pick instead (benchmarks/src/peers) in the same rounds
Brokers: KAFKA_BROKERS, AMQP_URL, SQS_ENDPOINT, NATS_URL. See benchmarks/README.md.
`);
  process.exit(0);
}

/** Per broker defaults, sized so that all four plus memory:// finish within about 10 minutes on 2 cores. */
const DEFAULTS: Record<Broker, { events: number; single: number; backlog: number }> = {
  kafka: { events: 20_000, single: 2_000, backlog: 100_000 },
  rabbitmq: { events: 10_000, single: 2_000, backlog: 100_000 },
  // The emulator answers one HTTP request at a time, so fewer events; but the same backlog as the
  // others (about 20 s to publish per side), or its 1/4 bound would be below what any consumer
  // holds anyway (raw held 3.3 MiB over control against a 10 000-event backlog's 2.5 MiB bound).
  sqs: { events: 3_000, single: 500, backlog: 100_000 },
  nats: { events: 10_000, single: 2_000, backlog: 100_000 },
};

const wanted = (args.broker ?? ['all']).flatMap((b) => b.split(',')).map((b) => b.trim());
const brokers = BROKERS.filter((b) => wanted.includes('all') || wanted.includes(b));
const withMemory = wanted.includes('all') || wanted.includes('memory');
const withStores = wanted.includes('all') || wanted.includes('stores');
// Sagas (saga.ts): runSaga() vs handle() on memory://, timer lateness on memory and PostgreSQL.
const withSaga = wanted.includes('all') || wanted.includes('saga');
// The outbox relay (outbox.ts) against the same bus's publishBatch, and commit-to-ack latency.
const withOutbox = wanted.includes('all') || wanted.includes('outbox');
// @switchyard/otel's overhead (otel.ts): handle() on memory:// without, with the hook and no SDK, with an SDK.
const withOtel = wanted.includes('all') || wanted.includes('otel');
// The PostgreSQL event store (event-store.ts): appends, catch-up, rebuild, raw SQL beside each.
const withEventStore = wanted.includes('all') || wanted.includes('eventstore');
for (const name of wanted) {
  if (
    name !== 'all' &&
    name !== 'memory' &&
    name !== 'stores' &&
    name !== 'saga' &&
    name !== 'outbox' &&
    name !== 'otel' &&
    name !== 'eventstore' &&
    !(BROKERS as readonly string[]).includes(name)
  )
    throw new Error(
      `Unknown broker '${name}': use ${[...BROKERS, 'memory', 'stores', 'saga', 'outbox', 'otel', 'eventstore', 'all'].join(', ')}`,
    );
}
const rounds = Math.max(1, Number(args.rounds));
if (args['raw-envelope'] !== 'cloudevents' && args['raw-envelope'] !== 'bare')
  throw new Error(`--raw-envelope is 'cloudevents' (default) or 'bare', not '${args['raw-envelope']}'`);
// The worker processes read it (envelope.ts): they inherit this environment.
process.env.BENCH_RAW_ENVELOPE = args['raw-envelope'];
if (args['kafka-client'] !== 'kafkajs' && args['kafka-client'] !== 'platformatic')
  throw new Error(`--kafka-client is 'kafkajs' (default) or 'platformatic', not '${args['kafka-client']}'`);
// Read by kafka.ts in the worker processes.
process.env.BENCH_KAFKA_CLIENT = args['kafka-client'];
if (args['raw-client'] !== 'kafkajs' && args['raw-client'] !== 'platformatic')
  throw new Error(`--raw-client is 'kafkajs' (default) or 'platformatic', not '${args['raw-client']}'`);
process.env.BENCH_KAFKA_RAW_CLIENT = args['raw-client'];
const size = Number(args.size);
const started = performance.now();

function say(text: string): void {
  const elapsed = ((performance.now() - started) / 1_000).toFixed(0).padStart(4);
  process.stderr.write(`[${elapsed} s] ${text}\n`);
}

function settingsFor(broker: Broker): ScenarioSettings {
  const d = DEFAULTS[broker];
  const events = args.events ? Number(args.events) : d.events;
  return {
    events,
    singleEvents: args.single ? Number(args.single) : Math.min(d.single, events),
    inFlight: 16,
    batch: 100,
    size,
    rate: Number(args.rate),
    latencySeconds: Number(args['latency-seconds']),
    backlog: args.backlog ? Number(args.backlog) : d.backlog,
    slowHandlerMs: 5,
    slowSeconds: Number(args['slow-seconds']),
    consume: { prefetch: 256, concurrency: 16 },
  };
}

const ADDRESSES: Record<Broker, string> = {
  kafka: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',')[0]!,
  rabbitmq: new URL(process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672/%2F').host || '127.0.0.1:5672',
  sqs: new URL(process.env.SQS_ENDPOINT ?? 'http://127.0.0.1:4566').host,
  nats: new URL(process.env.NATS_URL ?? 'nats://127.0.0.1:4222').host,
};

function reachable(address: string): Promise<boolean> {
  const [host, port] = [
    address.slice(0, address.lastIndexOf(':')),
    Number(address.slice(address.lastIndexOf(':') + 1)),
  ];
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port, timeout: 2_000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Run a node script in a child; stderr lines go to the progress log; resolves with stdout. */
function child(script: string, argv: string[], label: string, extra: string[] = []): Promise<string> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--conditions=@switchyard/source', ...extra, script, ...argv], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let pending = '';
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    proc.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) if (line.trim()) say(`${label}: ${line}`);
    });
    proc.on('error', reject);
    proc.on('close', (code) => {
      if (pending.trim()) say(`${label}: ${pending}`);
      if (code === 0) resolve(stdout);
      else reject(new Error(`${label} exited with ${code}`));
    });
  });
}

const sideCode = (side: Side) =>
  side === 'raw' ? 'r' : side === 'switchyard' ? 's' : `p${peersOf(peer(side).broker).indexOf(peer(side))}`;

async function runSide(broker: Broker, side: Side, round: number, prefix: string): Promise<RoundResult> {
  const isPeer = side.startsWith('peer:');
  const base = {
    broker,
    side,
    prefix: `${prefix}-${sideCode(side)}${round}`,
    // A peer is measured on the scenarios only: no backlog left for a slow consumer.
    settings: isPeer ? { ...settingsFor(broker), backlog: 0 } : settingsFor(broker),
  };
  const run = async (mode: WorkerInput['mode']) => {
    const input: WorkerInput = { ...base, mode };
    const out = await child(
      here('./worker.ts'),
      [JSON.stringify(input)],
      `${broker} round ${round} ${side}`,
      ['--expose-gc'],
    );
    return JSON.parse(out.trim().split('\n').pop()!);
  };
  const scenarios = (await run('scenarios')) as ScenarioResult;
  const slow: SlowResult = isPeer
    ? { controlHeld: NaN, backlogHeld: NaN, controlRssPeak: NaN, backlogRssPeak: NaN, backlogConsumed: NaN }
    : ((await run('slow')) as SlowResult);
  return { ...scenarios, ...slow };
}

async function runMemory(): Promise<{ rounds: number[]; events: number; median: number }> {
  const events = Number(args['memory-events']);
  const out = await child(
    here('./memory-pipeline.ts'),
    [String(events), args['memory-rounds']!],
    'memory://',
    ['--expose-gc'],
  );
  // memory-pipeline.ts prints "round N: handle() 123,456 events/s (...)" per round.
  const perRound = [...out.matchAll(/round \d+: handle\(\) ([\d,]+) events\/s/g)].map((m) =>
    Number(m[1]!.replace(/,/g, '')),
  );
  for (const line of out.trim().split('\n')) say(`memory://: ${line}`);
  return { rounds: perRound, events, median: median(perRound) };
}

async function brokerVersions(): Promise<Record<string, string>> {
  // The provisioning CLI asks each broker for its version over its own protocol.
  try {
    const out = await child(
      here('../../packages/conformance/src/provision/cli.ts'),
      ['status'],
      'brokers status',
      // Its raw kafkajs probe gets @switchyard/kafka's idle-timer fix, as `pnpm brokers` does.
      ['--import', here('../../scripts/quiet-kafkajs.mjs')],
    );
    const versions: Record<string, string> = {};
    for (const line of out.split('\n')) {
      const cells = line.trim().split(/\s{2,}/);
      const name = cells[0]?.split(' ')[0];
      if (name && (BROKERS as readonly string[]).includes(name) && cells.length >= 4)
        versions[name] = cells.at(-1)!;
    }
    return versions;
  } catch {
    return {};
  }
}

async function clientVersions(): Promise<Record<string, string>> {
  const versions: Record<string, string> = {};
  for (const name of [
    'kafkajs',
    '@platformatic/kafka',
    'amqplib',
    '@aws-sdk/client-sqs',
    '@nats-io/transport-node',
    '@nats-io/jetstream',
    'rxjs',
    ...(args.peers ? ['@nestjs/microservices', 'rascal', 'sqs-consumer'] : []),
  ]) {
    try {
      const json = JSON.parse(await readFile(here(`../node_modules/${name}/package.json`), 'utf8'));
      versions[name] = json.version;
    } catch {
      versions[name] = 'unknown';
    }
  }
  return versions;
}

// ---- run ----
const cpus = os.cpus();
const machine = {
  cpu: cpus[0]?.model ?? 'unknown',
  cores: cpus.length,
  ramGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
  os: `${os.type()} ${os.release()} ${os.arch()}`,
  node: process.version,
  loadavgAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
};
say(
  `${machine.cpu}, ${machine.cores} cores, ${machine.ramGiB} GiB, Node ${machine.node}, load ${machine.loadavgAtStart.join(' ')}`,
);
const [servers, clients] = await Promise.all([brokerVersions(), clientVersions()]);
const prefix = `bench-${Date.now().toString(36)}`;

interface BrokerResult {
  broker: Broker;
  address: string;
  server: string | undefined;
  settings: ScenarioSettings;
  skipped?: string;
  rounds: Array<{ round: number; side: Side; result?: RoundResult; error?: string }>;
}
const results: BrokerResult[] = [];
for (const broker of brokers) {
  const entry: BrokerResult = {
    broker,
    address: ADDRESSES[broker],
    server: servers[broker],
    settings: settingsFor(broker),
    rounds: [],
  };
  results.push(entry);
  if (!(await reachable(ADDRESSES[broker]))) {
    entry.skipped = `nothing listens on ${ADDRESSES[broker]} (pnpm brokers up)`;
    say(`${broker}: skipped, ${entry.skipped}`);
    continue;
  }
  const s = entry.settings;
  say(
    `${broker}: ${s.events} events of ${s.size} B (single ${s.singleEvents}), backlog ${s.backlog}, ${rounds} rounds raw/switchyard${
      args.peers
        ? `/${peersOf(broker)
            .map((p) => p.label)
            .join('/')}`
        : ''
    }`,
  );
  for (let round = 1; round <= rounds; round++) {
    // raw, sw | sw, raw | raw, sw …: a broker that warms up (the JVM) or slows down (a growing
    // store) over the run would otherwise always favour the side that goes second.
    const sides: Side[] = ['raw', 'switchyard', ...(args.peers ? peersOf(broker).map((p) => p.side) : [])];
    const order = round % 2 === 1 ? sides : sides.toReversed();
    for (const side of order) {
      try {
        entry.rounds.push({ round, side, result: await runSide(broker, side, round, prefix) });
      } catch (error) {
        entry.rounds.push({ round, side, error: (error as Error).message });
        say(`${broker} round ${round} ${side}: failed, ${(error as Error).message}`);
      }
    }
  }
}
const memory = withMemory ? await runMemory().catch((error: Error) => ({ error: error.message })) : undefined;

interface TimerLateness {
  timers: number;
  rate: number;
  p50: number;
  p99: number;
  max: number;
}
interface SagaBench {
  events: number;
  handle: number;
  handleIdempotent: number;
  saga: number;
  memoryTimers: TimerLateness;
  pgSaga?: number;
  pgInboxHandle?: number;
  pgTimers?: TimerLateness;
}
async function runSagaBench(): Promise<SagaBench> {
  const out = await child(
    here('./saga.ts'),
    [args['saga-events']!, args['timer-rate']!, args['timer-seconds']!],
    'saga',
  );
  for (const line of out.trim().split('\n')) if (!line.startsWith('RESULT ')) say(`saga: ${line}`);
  const result = out.split('\n').find((line) => line.startsWith('RESULT '));
  if (!result) throw new Error('saga.ts printed no RESULT line');
  return JSON.parse(result.slice('RESULT '.length)) as SagaBench;
}
const sagaBench = withSaga
  ? await runSagaBench().catch((error: Error) => ({ error: error.message }))
  : undefined;

async function runOutboxBench(): Promise<(OutboxBrokerResult | { broker: string; error: string })[]> {
  const outboxBrokers = args['outbox-brokers']!.split(',').map((b) => b.trim());
  const events: Record<string, number> = { memory: Number(args['outbox-memory-events']) };
  for (const broker of BROKERS) events[broker] = settingsFor(broker).events;
  const settings: OutboxSettings = {
    brokers: outboxBrokers,
    events,
    size,
    rate: Number(args.rate),
    seconds: Number(args['latency-seconds']),
    pg: args['outbox-pg'] === 'private' ? 'private' : 'url',
  };
  const out = await child(here('./outbox.ts'), [JSON.stringify(settings)], 'outbox');
  const result = out.split('\n').find((line) => line.startsWith('RESULT '));
  if (!result) throw new Error('outbox.ts printed no RESULT line');
  return JSON.parse(result.slice('RESULT '.length));
}
const outboxBench = withOutbox
  ? await runOutboxBench().catch((error: Error) => [{ broker: 'outbox', error: error.message }])
  : [];
interface OtelBench {
  events: number;
  rounds: number;
  ratio: { noop: number; sdk: number; noopCpu: number; sdkCpu: number; sampled: number; sampledCpu: number };
  hook: { ns: number; share: number };
  consume: { none: number; noop: number; sdk: number; sampled: number };
  consumeCpu: { none: number; noop: number; sdk: number; sampled: number };
  perEventUs: { none: number; sdkSpan: number };
}
async function runOtelBench(): Promise<OtelBench> {
  const out = await child(here('./otel.ts'), [args['otel-events']!, args['otel-rounds']!], 'otel');
  for (const line of out.trim().split('\n')) if (!line.startsWith('RESULT ')) say(`otel: ${line}`);
  const result = out.split('\n').find((line) => line.startsWith('RESULT '));
  if (!result) throw new Error('otel.ts printed no RESULT line');
  return JSON.parse(result.slice('RESULT '.length)) as OtelBench;
}
const otelBench = withOtel
  ? await runOtelBench().catch((error: Error) => ({ error: error.message }))
  : undefined;
interface EventStoreBench {
  singles: { raw: number[]; ours: number[] };
  batch100: { raw: number[]; ours: number[] };
  catchUp: { raw: number[]; ours: number[]; events: number };
  rebuild: { raw: number[]; ours: number[]; events: number };
  rebuildBatch: { raw: number[]; ours: number[]; events: number };
}
async function runEventStoreBench(): Promise<EventStoreBench> {
  const out = await child(
    here('./event-store.ts'),
    [args['es-singles']!, args['es-batches']!, args['es-rounds']!],
    'eventstore',
  );
  const result = out.split('\n').find((line) => line.startsWith('RESULT '));
  if (!result) throw new Error('event-store.ts printed no RESULT line');
  return JSON.parse(result.slice('RESULT '.length)) as EventStoreBench;
}
const eventStoreBench = withEventStore
  ? await runEventStoreBench().catch((error: Error) => ({ error: error.message }))
  : undefined;

interface StoreRun {
  store: string;
  events: number;
  raw: number;
  rawLabel: string;
  handle: number;
}
/** handle() on memory:// with the Redis and the PostgreSQL idempotency store, each beside its raw primitive. */
async function runStores(): Promise<(StoreRun | { store: string; error: string })[]> {
  const out: (StoreRun | { store: string; error: string })[] = [];
  for (const [store, events] of [
    ['redis', args['store-events-redis']!],
    ['pg', args['store-events-pg']!],
  ] as const) {
    try {
      const text = await child(here('./store-pipeline.ts'), [store, events], `store ${store}`);
      out.push(JSON.parse(text.trim().split('\n').pop()!) as StoreRun);
    } catch (error) {
      out.push({ store, error: (error as Error).message });
    }
  }
  return out;
}
const stores = withStores ? await runStores() : [];

// ---- report ----
const fmt = (n: number, unit: string) =>
  !Number.isFinite(n)
    ? 'n/a'
    : unit === 'ev/s'
      ? Math.round(n).toLocaleString('en')
      : n.toFixed(unit === 'ms' ? 2 : 1);

const rows: Row[] = [];
for (const entry of results) {
  if (entry.skipped) continue;
  for (const figure of FIGURES) {
    const per = (side: Side) =>
      entry.rounds.filter((r) => r.side === side && r.result).map((r) => figure.value(r.result!));
    const raw = median(per('raw'));
    const sw = median(per('switchyard'));
    const row: Row = {
      broker: entry.broker,
      figure: figure.label,
      unit: figure.unit,
      raw,
      switchyard: sw,
      ratio: sw / raw,
      rounds: { raw: per('raw'), switchyard: per('switchyard') },
    };
    row.higherIsBetter = figure.higherIsBetter;
    if (figure.target) {
      row.target = figure.target.text;
      row.limit = figure.target.limit(raw, entry.settings);
      row.met = meets(sw, row.limit, figure.higherIsBetter);
    }
    rows.push(row);
  }
  const backlog = entry.rounds.filter((r) => r.result).map((r) => `${r.side} ${r.result!.backlogConsumed}`);
  say(
    `${entry.broker}: slow consumer handled ${backlog.join(', ')} of the ${entry.settings.backlog} backlog`,
  );
}
if (memory && 'median' in memory) {
  rows.push({
    broker: MEMORY_FIGURE.broker,
    figure: MEMORY_FIGURE.label,
    unit: MEMORY_FIGURE.unit,
    raw: Number.NaN,
    switchyard: memory.median,
    ratio: Number.NaN,
    higherIsBetter: true,
    target: MEMORY_FIGURE.target,
    limit: MEMORY_FIGURE.limit,
    met: meets(memory.median, MEMORY_FIGURE.limit, true),
  });
}

const STORE_TARGETS: Record<string, number> = { redis: 27_000, pg: 5_000 };
for (const run of stores) {
  if ('error' in run) continue;
  const target = STORE_TARGETS[run.store]!;
  rows.push({
    broker: `memory:// + ${run.store} store`,
    figure: `handle() c16; raw = ${run.rawLabel}`,
    unit: 'ev/s',
    raw: run.raw,
    switchyard: run.handle,
    ratio: run.handle / run.raw,
    target: `≥ ${target.toLocaleString('en')} ev/s`,
    met: run.handle >= target,
  });
}

if (sagaBench && 'saga' in sagaBench) {
  rows.push({
    broker: 'saga',
    figure: 'runSaga() (memory store) vs handle() + idempotency on memory://',
    unit: 'ev/s',
    raw: sagaBench.handleIdempotent,
    switchyard: sagaBench.saga,
    ratio: sagaBench.saga / sagaBench.handleIdempotent,
    target: 'ratio ≥ 0.5',
    met: sagaBench.saga / sagaBench.handleIdempotent >= 0.5,
  });
  rows.push({
    broker: 'saga',
    figure: 'runSaga() (memory store) vs plain handle() on memory://',
    unit: 'ev/s',
    raw: sagaBench.handle,
    switchyard: sagaBench.saga,
    ratio: sagaBench.saga / sagaBench.handle,
  });
  const timers = (store: string, t: TimerLateness | undefined) => {
    if (!t) return;
    rows.push({
      broker: 'saga',
      figure: `timer lateness p99, ${store} store, ${Math.round(t.rate)} timers/s`,
      unit: 'ms',
      raw: Number.NaN,
      switchyard: t.p99,
      ratio: Number.NaN,
      target: '≤ 1 000 ms at 1 000 timers/s',
      met: t.p99 <= 1_000 && t.rate >= 990,
    });
  };
  timers('memory', sagaBench.memoryTimers);
  timers('PostgreSQL', sagaBench.pgTimers);
  if (sagaBench.pgSaga !== undefined) {
    const inbox = sagaBench.pgInboxHandle ?? Number.NaN;
    rows.push({
      broker: 'saga',
      figure: 'runSaga() (PostgreSQL store) vs handle() + PostgreSQL inbox on memory://',
      unit: 'ev/s',
      raw: inbox,
      switchyard: sagaBench.pgSaga,
      ratio: sagaBench.pgSaga / inbox,
      target: 'ratio ≥ 0.5',
      met: sagaBench.pgSaga / inbox >= 0.5,
    });
  }
}

const OUTBOX_RATIO = 0.8;
const OUTBOX_MEMORY_MIN = 40_000;
const OUTBOX_P99_MS = 50;
for (const run of outboxBench) {
  if ('error' in run) continue;
  const ratio = run.relay / run.publishBatch;
  const memory = run.broker === 'memory';
  rows.push({
    broker: `outbox → ${run.broker}`,
    figure: "relay vs the bus's publishBatch (16 × 500)",
    unit: 'ev/s',
    raw: run.publishBatch,
    switchyard: run.relay,
    ratio,
    target: memory ? `ratio ≥ ${OUTBOX_RATIO} and ≥ 40 000 ev/s` : `ratio ≥ ${OUTBOX_RATIO}`,
    met: ratio >= OUTBOX_RATIO && (!memory || run.relay >= OUTBOX_MEMORY_MIN),
  });
  const latencyRow = (figure: string, value: number, target?: string, met?: boolean) =>
    rows.push({
      broker: `outbox → ${run.broker}`,
      figure,
      unit: 'ms',
      raw: Number.NaN,
      switchyard: value,
      ratio: Number.NaN,
      ...(target ? { target, met } : {}),
    });
  latencyRow('commit→ack p50, NOTIFY', run.notify.p50);
  latencyRow(
    'commit→ack p99, NOTIFY',
    run.notify.p99,
    `≤ ${OUTBOX_P99_MS} ms`,
    run.notify.p99 <= OUTBOX_P99_MS,
  );
  latencyRow(
    `commit→ack p99, polling only (${run.poll.pollMs} ms)`,
    run.poll.p99,
    `≤ ${run.poll.pollMs + 50} ms`,
    run.poll.p99 <= run.poll.pollMs + 50,
  );
}
if (otelBench && 'ratio' in otelBench) {
  // raw = handle() without instrumentation; switchyard = with @switchyard/otel installed.
  const otelRow = (figure: string, unit: string, raw: number, sw: number, ratio: number, floor: number) =>
    rows.push({
      broker: 'otel',
      figure,
      unit,
      raw,
      switchyard: sw,
      ratio,
      higherIsBetter: true,
      target: `ratio ≥ ${floor.toFixed(2)}`,
      met: ratio >= floor,
    });
  const c = otelBench.consume;
  const cpu = otelBench.consumeCpu;
  otelRow('memory:// handle(), hook without SDK', 'ev/s', c.none, c.noop, otelBench.ratio.noop, 0.98);
  // The hook without an SDK timed directly (ns per delivery) against handle()'s CPU per event.
  rows.push({
    broker: 'otel',
    figure: `hook without SDK, timed: ${otelBench.hook.ns.toFixed(1)} ns per delivery, share of handle()`,
    unit: '%',
    raw: Number.NaN,
    switchyard: otelBench.hook.share * 100,
    ratio: Number.NaN,
    target: '≤ 2 %',
    met: otelBench.hook.share <= 0.02,
  });
  otelRow('memory:// handle(), in-memory exporter', 'ev/s', c.none, c.sdk, otelBench.ratio.sdk, 0.9);
  otelRow('same per CPU second, hook without SDK', 'ev/s', cpu.none, cpu.noop, otelBench.ratio.noopCpu, 0.98);
  otelRow('same per CPU second, in-memory exporter', 'ev/s', cpu.none, cpu.sdk, otelBench.ratio.sdkCpu, 0.9);
  // For comparison, no target: the same SDK sampling 1 % of traces.
  rows.push({
    broker: 'otel',
    figure: 'memory:// handle(), SDK sampling 1 %',
    unit: 'ev/s',
    raw: c.none,
    switchyard: c.sampled,
    ratio: otelBench.ratio.sampled,
    higherIsBetter: true,
  });
}
if (eventStoreBench && 'singles' in eventStoreBench) {
  const es = eventStoreBench;
  const row = (
    figure: string,
    sides: { raw: number[]; ours: number[] },
    target: number | undefined,
    rawLabel: string,
  ) => {
    const raw = median(sides.raw);
    const ours = median(sides.ours);
    rows.push({
      broker: 'eventstore (PostgreSQL)',
      figure: `${figure}; raw = ${rawLabel}`,
      unit: 'ev/s',
      raw,
      switchyard: ours,
      ratio: ours / raw,
      rounds: { raw: sides.raw, switchyard: sides.ours },
      ...(target === undefined
        ? {}
        : { target: `≥ ${target.toLocaleString('en')} ev/s`, met: ours >= target }),
    });
  };
  row('single-event appends, 1 connection', es.singles, 1_280, 'BEGIN; upsert stream; INSERT; COMMIT');
  row('events in 100-event appends, 1 connection', es.batch100, 48_000, 'the same with INSERT … unnest');
  row(
    `subscription catch-up through handle() c16 (${es.catchUp.events} events)`,
    es.catchUp,
    20_000,
    'gap-safe SELECT loop',
  );
  row(
    `projection rebuild into a table, batch handler (${es.rebuildBatch.events} events)`,
    es.rebuildBatch,
    20_000,
    'one INSERT … SELECT',
  );
  row(
    `projection rebuild into a table, a query per event (${es.rebuild.events} events)`,
    es.rebuild,
    undefined,
    'one INSERT … SELECT',
  );
}

const header = ['broker', 'figure', 'raw', 'switchyard', 'sw/raw', 'target', ''];
const table = rows.map((r) => [
  r.broker,
  `${r.figure} (${r.unit})`,
  fmt(r.raw, r.unit),
  fmt(r.switchyard, r.unit),
  Number.isFinite(r.ratio) ? r.ratio.toFixed(2) : '',
  r.target ?? '',
  r.met === undefined ? '' : r.met ? 'met' : 'NOT MET',
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
const line = (cells: string[]) =>
  cells
    .map((c, i) => (i >= 2 && i <= 4 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
    .join('  ')
    .trimEnd();
console.log(line(header));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const row of table) console.log(line(row));
const peers = peerRows(results);
printPeerRows(peers, fmt);
for (const entry of results) {
  if (entry.skipped) console.log(`${entry.broker}: skipped (${entry.skipped})`);
  for (const r of entry.rounds)
    if (r.error) console.log(`${entry.broker} round ${r.round} ${r.side}: ${r.error}`);
}
if (memory && 'error' in memory) console.log(`memory://: ${memory.error}`);
for (const run of stores) if ('error' in run) console.log(`${run.store} store: ${run.error}`);
if (sagaBench && 'error' in sagaBench) console.log(`saga: ${sagaBench.error}`);
for (const run of outboxBench) if ('error' in run) console.log(`outbox → ${run.broker}: ${run.error}`);
if (otelBench && 'error' in otelBench) console.log(`otel: ${otelBench.error}`);
if (eventStoreBench && 'error' in eventStoreBench) console.log(`eventstore: ${eventStoreBench.error}`);
if (eventStoreBench && 'singles' in eventStoreBench) {
  const range = (xs: number[]) => `${Math.round(Math.min(...xs))}–${Math.round(Math.max(...xs))}`;
  for (const [label, sides] of [
    ['single appends/s', eventStoreBench.singles],
    ['100-event appends ev/s', eventStoreBench.batch100],
    ['catch-up ev/s', eventStoreBench.catchUp],
    ['rebuild ev/s, batch handler', eventStoreBench.rebuildBatch],
    ['rebuild ev/s, a query per event', eventStoreBench.rebuild],
  ] as const)
    console.log(`eventstore ${label} over rounds: raw ${range(sides.raw)}, ours ${range(sides.ours)}`);
}

const date = new Date().toISOString().slice(0, 10);
await mkdir(args.out!, { recursive: true });
const report = {
  date: new Date().toISOString(),
  durationSeconds: Math.round((performance.now() - started) / 1_000),
  rawEnvelope: args['raw-envelope'],
  kafkaClient: args['kafka-client'],
  kafkaRawClient: args['raw-client'],
  machine,
  clients,
  brokers: results,
  memory,
  stores,
  saga: sagaBench,
  outbox: outboxBench,
  otel: otelBench,
  eventStore: eventStoreBench,
  table: rows,
  peers: args.peers ? { libraries: PEERS, table: peers } : undefined,
  // Over the brokers that were run: undefined (n/a) when none was, never 'met' for nothing.
  targets: {
    throughputRatio: verdict(rows.filter((r) => r.target === THROUGHPUT_TARGET.text)),
    addedP99: verdict(rows.filter((r) => r.figure === 'latency p99')),
    backlogBounded: verdict(rows.filter((r) => r.figure === 'backlog held over control')),
    memoryPipeline: verdict(rows.filter((r) => r.broker === MEMORY_FIGURE.broker)),
    stores: verdict(rows.filter((r) => r.broker.endsWith(' store'))),
    sagaTimers: verdict(rows.filter((r) => r.figure.startsWith('timer lateness'))),
    outboxThroughput: verdict(rows.filter((r) => r.broker.startsWith('outbox') && r.unit === 'ev/s')),
    outboxLatency: verdict(rows.filter((r) => r.broker.startsWith('outbox') && r.unit === 'ms')),
    otelOverhead: verdict(rows.filter((r) => r.broker === 'otel')),
    eventStore: verdict(rows.filter((r) => r.broker.startsWith('eventstore'))),
    // Switchyard ≥ every peer that keeps the same guarantees (throughput and p99).
    peers: args.peers ? verdict(peers.map((r) => ({ ...r, raw: r.peerValue }) as unknown as Row)) : undefined,
  },
};
const ran = [...new Set(rows.map((r) => r.broker))];
const notRun = results.filter((entry) => entry.skipped).map((entry) => entry.broker);
const jsonPath = `${args.out}/${date}.json`;
const svgPath = `${args.out}/${date}.svg`;
await writeFile(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
await writeFile(svgPath, resultsChart(chartInput(report)));
console.log(
  `\ntargets: ${Object.entries(report.targets)
    .map(([k, v]) => `${k} ${v === undefined ? 'n/a' : v ? 'met' : 'NOT MET'}`)
    .join(
      ', ',
    )} (over ${ran.join(', ') || 'nothing'}${notRun.length ? `; not run: ${notRun.join(', ')}` : ''})`,
);
console.log(`results: ${jsonPath}\nchart:   ${svgPath}`);
say(`done in ${report.durationSeconds} s`);
// A side that failed leaves its figures empty: the run is incomplete, whatever the targets say.
const failed =
  results.some((entry) => entry.rounds.some((r) => r.error)) ||
  (memory && 'error' in memory) ||
  stores.some((run) => 'error' in run) ||
  (sagaBench !== undefined && 'error' in sagaBench) ||
  outboxBench.some((run) => 'error' in run) ||
  (otelBench !== undefined && 'error' in otelBench) ||
  (eventStoreBench !== undefined && 'error' in eventStoreBench);
if (failed) {
  say('some runs failed (listed above): the figures are incomplete');
  process.exitCode = 1;
}
