// One phase of one side on one broker, with the CPU it cost (see benchmarks/README.md):
//   node --conditions=@switchyard/source benchmarks/src/focus.ts <broker> <raw|switchyard> <publish|consume|e2e> [events]
// consume: publish `events` (not timed), then time consuming them from the first one handled. e2e:
// as the bench's end to end. Prints events/s and CPU µs per event (user + system of this process),
// which a loaded machine disturbs less than wall time. FOCUS_PROFILE=<file.cpuprofile> writes a CPU
// profile of the timed phase alone (not the start, the join or the untimed publish).
import type { Item } from './driver.ts';
import { sleep } from './measure.ts';
import { type Broker, loadPair } from './pairs.ts';
import { phaseProfile } from './phase-profile.ts';

const broker = (process.argv[2] ?? 'kafka') as Broker;
const side = process.argv[3] as 'raw' | 'switchyard';
const phase = process.argv[4] ?? 'consume';
const events = Number(process.argv[5] ?? 20_000);
const pair = await loadPair(broker);
const prefix = `bench-focus-${Date.now().toString(36)}-${side[0]}`;
const topic = `${prefix}-${phase}`;
const group = `${prefix}-g`;
const driver = pair.create(side);
// FOCUS_PREFETCH: the consumer's prefetch (256, as the bench).
const settings = { prefetch: Number(process.env.FOCUS_PREFETCH ?? 256), concurrency: 16 };

function item(i: number): Item {
  const body = new Uint8Array(1024);
  body.fill(0x61, 9);
  new DataView(body.buffer).setFloat64(0, performance.now());
  return { body, key: `k${i % 64}` };
}

async function publishAll(count: number): Promise<void> {
  for (let i = 0; i < count; i += 100) {
    const items: Item[] = [];
    for (let j = i; j < Math.min(count, i + 100); j++) items.push(item(j));
    await driver.publishBatch(topic, items);
  }
}

const profile = await phaseProfile(process.env.FOCUS_PROFILE);
const startProfile = () => void profile.start();

await driver.open();
try {
  await driver.prepare(topic, group);
  let seen = 0;
  let done: () => void = () => undefined;
  const all = new Promise<void>((resolve) => {
    done = resolve;
  });
  let started = 0;
  let cpu: NodeJS.CpuUsage = process.cpuUsage();
  // consume: timed from the first record, so joining the group is not counted.
  const handler = () => {
    if (phase === 'consume' && seen === 0) {
      startProfile();
      cpu = process.cpuUsage();
      started = performance.now();
    }
    if (++seen === events) done();
  };
  if (phase === 'publish') {
    startProfile();
    cpu = process.cpuUsage();
    started = performance.now();
    await publishAll(events);
  } else if (phase === 'consume') {
    await publishAll(events);
    const consuming = await driver.consume(topic, group, settings, handler);
    await all;
    await consuming.stop();
  } else {
    const consuming = await driver.consume(topic, group, settings, handler);
    await publishAll(1);
    while (seen < 1) await sleep(20);
    seen = 0;
    startProfile();
    cpu = process.cpuUsage();
    started = performance.now();
    await publishAll(events);
    await all;
    await consuming.stop();
  }
  const wall = performance.now() - started;
  const used = process.cpuUsage(cpu);
  await profile.stop();
  console.log(
    JSON.stringify({
      broker,
      side,
      phase,
      events,
      perSecond: Math.round(events / (wall / 1000)),
      cpuUsPerEvent: Math.round(((used.user + used.system) / events) * 10) / 10,
    }),
  );
} finally {
  await driver.close();
  await pair.cleanup(side, [topic], group);
}
process.exit(0);
