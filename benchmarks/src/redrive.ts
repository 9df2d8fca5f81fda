// node --conditions=@switchyard/source benchmarks/src/redrive.ts [--letters N] [--broker LIST]
// bus.deadLetters().redrive() throughput, unthrottled, on each broker against the target (≥ 500
// dead letters/s: SQS's native move task caps at 500/s). The DLQ is filled straight with dead
// letters, then one redrive runs; the rate counts from the redrive's start to its last confirmed
// republish (the trailing idle wait, idleMs, is left out; joining the DLQ's group is not).
// Table on stdout; what it creates is deleted with each broker's raw client (pairs.ts cleanup).
import { parseArgs } from 'node:util';
import { type Bus, connect, DEAD_LETTER_GROUP, type WireMessage } from '@switchyard/core';
import { BROKERS, loadPair } from './pairs.ts';
import type { SwitchyardDriver } from './switchyard-driver.ts';

const TARGET_PER_S = 500;
const IDLE_MS = 1_000;

const { values: args } = parseArgs({
  options: {
    letters: { type: 'string', default: '2000' },
    broker: { type: 'string', multiple: true },
  },
});
const letters = Number(args.letters);
const wanted = (args.broker ?? ['all']).flatMap((b) => b.split(','));
const all = ['memory', ...BROKERS] as const;
const brokers = wanted.includes('all') ? all : all.filter((b) => wanted.includes(b));

interface Row {
  broker: string;
  redriven: number;
  seconds: number;
  perSecond: number;
  error?: string;
}

const letter = (topic: string, n: number): WireMessage => ({
  headers: {
    specversion: '1.0',
    id: `bench-${n}`,
    source: 'bench',
    type: 'bench.redrive',
    datacontenttype: 'application/json',
    deadletterreason: 'bench',
    deadletterattempts: '1',
    deadlettertopic: topic,
    deadlettergroup: 'g',
    deadletteredat: new Date().toISOString(),
  },
  body: new TextEncoder().encode(JSON.stringify({ n })),
  key: `k${n % 16}`,
});

async function measure(bus: Bus, topic: string): Promise<Omit<Row, 'broker'>> {
  const dlq = `${topic}.g.dlq`;
  await bus.provision(topic, { groups: ['g'] });
  await bus.provision(dlq, { groups: [DEAD_LETTER_GROUP] });
  for (let n = 0; n < letters; n += 500) {
    await bus.publishWire(
      dlq,
      Array.from({ length: Math.min(500, letters - n) }, (_, i) => letter(topic, n + i)),
    );
  }
  const report = await bus.deadLetters(topic, { group: 'g' }).redrive({ idleMs: IDLE_MS });
  const seconds = (report.durationMs - IDLE_MS) / 1_000;
  return { redriven: report.redriven, seconds, perSecond: report.redriven / seconds };
}

async function run(broker: (typeof all)[number]): Promise<Row> {
  const topic = `bench-redrive-${Date.now().toString(36)}`;
  if (broker === 'memory') {
    const bus = await connect({ url: `memory://${topic}`, source: 'bench' });
    try {
      return { broker, ...(await measure(bus, topic)) };
    } finally {
      await bus.close();
    }
  }
  const pair = await loadPair(broker);
  const driver = pair.create('switchyard') as SwitchyardDriver;
  try {
    await driver.open();
    return { broker, ...(await measure(driver.bus, topic)) };
  } finally {
    await driver.close().catch(() => undefined);
    await pair.cleanup('switchyard', [topic], 'g');
    await pair.cleanup('switchyard', [`${topic}.g.dlq`], DEAD_LETTER_GROUP);
  }
}

const rows: Row[] = [];
for (const broker of brokers) {
  try {
    rows.push(await run(broker));
  } catch (error) {
    rows.push({ broker, redriven: 0, seconds: Number.NaN, perSecond: Number.NaN, error: String(error) });
  }
}
console.log(`redrive() of ${letters} dead letters, unthrottled; target ≥ ${TARGET_PER_S}/s`);
console.log('| broker | redriven | seconds | per second | target |');
console.log('|---|---|---|---|---|');
for (const r of rows) {
  const verdict = r.error ? `error: ${r.error.slice(0, 80)}` : r.perSecond >= TARGET_PER_S ? 'met' : 'missed';
  console.log(
    `| ${r.broker} | ${r.redriven} | ${r.seconds.toFixed(2)} | ${Math.round(r.perSecond)} | ${verdict} |`,
  );
}
