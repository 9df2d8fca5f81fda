// Throughput of memory:// through handle() with every policy on (memory-round.ts). One process,
// so one core. The publish rate is printed too.
//   node --conditions=@switchyard/source benchmarks/src/memory-pipeline.ts [events] [rounds]
import * as core from '../../packages/core/src/index.ts';
import { memoryRound } from './memory-round.ts';

const events = Number(process.argv[2] ?? 200_000);
const rounds = Number(process.argv[3] ?? 3);

const fmt = (n: number) => Math.round(n).toLocaleString('en');
const consumed: number[] = [];
for (let r = 0; r < rounds; r++) {
  const { publish, consume } = await memoryRound(core, String(r), events);
  consumed.push(consume);
  console.log(`round ${r + 1}: handle() ${fmt(consume)} events/s (publishBatch ${fmt(publish)} events/s)`);
}
consumed.sort((a, b) => a - b);
console.log(
  `memory:// through handle(), all policies, ${events} × 1 KiB JSON, concurrency 16: median ${fmt(
    consumed[Math.floor(consumed.length / 2)]!,
  )} events/s`,
);
