// Throughput of memory:// through handle() with every policy on (memory-round.ts). One process,
// so one core. The publish rate is printed too. MEMORY_PROFILE=<file.cpuprofile> writes a CPU
// profile of the last round's consume phase alone.
//   node --conditions=@switchyard/source benchmarks/src/memory-pipeline.ts [events] [rounds]
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import * as core from '../../packages/core/src/index.ts';
import { memoryRound, type RoundHooks } from './memory-round.ts';

const events = Number(process.argv[2] ?? 200_000);
const rounds = Number(process.argv[3] ?? 3);

const profileTo = process.env.MEMORY_PROFILE;
const session = profileTo ? new Session() : undefined;
if (session) {
  session.connect();
  await session.post('Profiler.enable');
}
// The last round's consume phase: the earlier rounds warm the code up.
const profiled: RoundHooks = {
  consumeStarts: async () => void (await session?.post('Profiler.start')),
  consumeEnded: async () => {
    if (!session) return;
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(profileTo!, JSON.stringify(profile));
  },
};

const fmt = (n: number) => Math.round(n).toLocaleString('en');
const consumed: number[] = [];
for (let r = 0; r < rounds; r++) {
  const { publish, consume } = await memoryRound(core, String(r), events, r === rounds - 1 ? profiled : {});
  consumed.push(consume);
  console.log(`round ${r + 1}: handle() ${fmt(consume)} events/s (publishBatch ${fmt(publish)} events/s)`);
}
consumed.sort((a, b) => a - b);
console.log(
  `memory:// through handle(), all policies, ${events} × 1 KiB JSON, concurrency 16: median ${fmt(
    consumed[Math.floor(consumed.length / 2)]!,
  )} events/s`,
);
