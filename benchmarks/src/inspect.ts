// node --conditions=@switchyard/source benchmarks/src/inspect.ts [--calls N] [--broker LIST]
// bus.inspect() latency on each broker against the target (≤ 50 ms per call on local brokers): a
// group holding a backlog, called in sequence as a dashboard or an OpenTelemetry gauge would.
// Table on stdout; what it creates is deleted with each broker's raw client (pairs.ts cleanup).
import { parseArgs } from 'node:util';
import { connect } from '@switchyard/core';
import { median } from './measure.ts';
import { BROKERS, loadPair } from './pairs.ts';
import type { SwitchyardDriver } from './switchyard-driver.ts';

const TARGET_MS = 50;

const { values: args } = parseArgs({
  options: {
    calls: { type: 'string', default: '50' },
    backlog: { type: 'string', default: '100' },
    broker: { type: 'string', multiple: true },
  },
});
const calls = Number(args.calls);
const backlog = Number(args.backlog);
const wanted = (args.broker ?? ['all']).flatMap((b) => b.split(','));
const all = ['memory', ...BROKERS] as const;
const brokers = wanted.includes('all') ? all : all.filter((b) => wanted.includes(b));

interface Row {
  broker: string;
  median: number;
  p95: number;
  max: number;
  backlog: number | null;
  error?: string;
}

const item = (n: number) => ({ type: 'bench.inspect', data: { n } });

/** `calls` sequential inspects after 3 warm-ups, in ms. */
async function timeInspect(inspect: () => Promise<{ backlog: number | null }>): Promise<Omit<Row, 'broker'>> {
  for (let i = 0; i < 3; i++) await inspect();
  const times: number[] = [];
  let last: { backlog: number | null } = { backlog: null };
  for (let i = 0; i < calls; i++) {
    const started = performance.now();
    last = await inspect();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return {
    median: median(times),
    p95: times[Math.min(times.length - 1, Math.floor(times.length * 0.95))]!,
    max: times.at(-1)!,
    backlog: last.backlog,
  };
}

async function run(broker: (typeof all)[number]): Promise<Row> {
  const topic = `bench-inspect-${Date.now().toString(36)}`;
  const group = 'g';
  if (broker === 'memory') {
    const bus = await connect({ url: `memory://${topic}`, source: 'bench' });
    try {
      await bus.provision(topic, { groups: [group] });
      await bus.publishBatch(
        topic,
        Array.from({ length: backlog }, (_, n) => item(n)),
      );
      return { broker, ...(await timeInspect(() => bus.inspect(topic, { group }))) };
    } finally {
      await bus.close();
    }
  }
  const pair = await loadPair(broker);
  const driver = pair.create('switchyard') as SwitchyardDriver;
  try {
    await driver.open();
    await driver.prepare(topic, group);
    await driver.bus.publishBatch(
      topic,
      Array.from({ length: backlog }, (_, n) => item(n)),
    );
    return { broker, ...(await timeInspect(() => driver.bus.inspect(topic, { group }))) };
  } finally {
    await driver.close().catch(() => undefined);
    await pair.cleanup('switchyard', [topic], group);
  }
}

const rows: Row[] = [];
for (const broker of brokers) {
  try {
    rows.push(await run(broker));
  } catch (error) {
    rows.push({
      broker,
      median: Number.NaN,
      p95: Number.NaN,
      max: Number.NaN,
      backlog: null,
      error: String(error),
    });
  }
}
const fmt = (ms: number) => (Number.isNaN(ms) ? '-' : ms.toFixed(1));
console.log(
  `bus.inspect() latency, ${calls} calls in sequence, group holding ${backlog}; target ≤ ${TARGET_MS} ms (median)`,
);
console.log('| broker | median ms | p95 ms | max ms | backlog seen | target |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) {
  // The target is per call: the median call; p95 and max show how far a loaded machine spreads it.
  const verdict = r.error ? `error: ${r.error.slice(0, 80)}` : r.median <= TARGET_MS ? 'met' : 'missed';
  console.log(
    `| ${r.broker} | ${fmt(r.median)} | ${fmt(r.p95)} | ${fmt(r.max)} | ${r.backlog ?? '-'} | ${verdict} |`,
  );
}
