// What an idle consumer costs: one subscription on an empty topic, the CPU its process uses over a
// few seconds once it is settled, for the raw client and Switchyard on each broker (see README):
//   node --conditions=@switchyard/source benchmarks/src/idle.ts [--broker kafka,rabbitmq,...] [--seconds 5]
// Each side runs in a fresh process, so a patch or timer one side installs cannot reach the other.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sleep } from './measure.ts';
import { BROKERS, type Broker, loadPair } from './pairs.ts';

const SETTLE_MS = 3_000;

async function measure(broker: Broker, side: 'raw' | 'switchyard', seconds: number): Promise<number> {
  const pair = await loadPair(broker);
  const topic = `bench-idle-${Date.now().toString(36)}-${side[0]}`;
  const group = 'idle';
  const driver = pair.create(side);
  await driver.open();
  try {
    await driver.prepare(topic, group);
    const consuming = await driver.consume(topic, group, { prefetch: 256, concurrency: 16 }, () => undefined);
    await sleep(SETTLE_MS);
    const cpu = process.cpuUsage();
    const started = performance.now();
    await sleep(seconds * 1000);
    const used = process.cpuUsage(cpu);
    const percent = ((used.user + used.system) / 1000 / (performance.now() - started)) * 100;
    await consuming.stop();
    return percent;
  } finally {
    await driver.close();
    await pair.cleanup(side, [topic], group);
  }
}

const { values } = parseArgs({
  options: {
    broker: { type: 'string', default: BROKERS.join(',') },
    seconds: { type: 'string', default: '5' },
    one: { type: 'string' },
  },
});
const seconds = Number(values.seconds);

if (values.one) {
  const [broker, side] = values.one.split(':') as [Broker, 'raw' | 'switchyard'];
  console.log((await measure(broker, side, seconds)).toFixed(2));
  process.exit(0);
}

const self = fileURLToPath(import.meta.url);
console.log(`idle consumer, CPU % of one core over ${seconds} s (after ${SETTLE_MS / 1000} s settling)`);
console.log('broker     raw     switchyard');
for (const broker of values.broker!.split(',') as Broker[]) {
  const figures = (['raw', 'switchyard'] as const).map((side) => {
    try {
      return execFileSync(
        process.execPath,
        [...process.execArgv, self, '--one', `${broker}:${side}`, '--seconds', String(seconds)],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
      )
        .trim()
        .split('\n')
        .pop()!;
    } catch {
      return 'failed';
    }
  });
  console.log(`${broker.padEnd(10)} ${figures[0]!.padStart(6)}  ${figures[1]!.padStart(10)}`);
}
