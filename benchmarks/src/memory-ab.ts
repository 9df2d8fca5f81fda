// memory:// A/B in one process: the same round (memory-round.ts) against two copies of core,
// alternating A B | B A | ..., each side's figures the median of its rounds. On a busy machine two
// runs minutes apart differ by more than most changes do; rounds seconds apart in one process, and
// events per CPU-second beside events per second, tell a change from the weather.
//   node --conditions=@switchyard/source benchmarks/src/memory-ab.ts <core A index.ts> <core B index.ts> [events] [pairs]
// e.g. A = an export of main (git archive main packages/core | tar -x -C /tmp/base, with
// node_modules linked to this tree's), B = packages/core/src/index.ts.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { memoryRound, type RoundResult } from './memory-round.ts';

const [a, b] = [process.argv[2], process.argv[3]];
if (!a || !b) throw new Error('usage: memory-ab.ts <core A index.ts> <core B index.ts> [events] [pairs]');
const events = Number(process.argv[4] ?? 200_000);
const pairs = Number(process.argv[5] ?? 4);
const cores = {
  A: await import(pathToFileURL(resolve(a)).href),
  B: await import(pathToFileURL(resolve(b)).href),
};

const fmt = (n: number) => Math.round(n).toLocaleString('en');
const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!;
const results: Record<'A' | 'B', RoundResult[]> = { A: [], B: [] };
// An untimed round of each first, as memory-pipeline.ts does: the first round in a process is the
// JIT and the heap getting going, and would count against whichever side runs it.
for (const side of ['A', 'B'] as const) await memoryRound(cores[side], `${side}-warmup`, events);
for (let pair = 0; pair < pairs; pair++) {
  for (const side of pair % 2 === 0 ? (['A', 'B'] as const) : (['B', 'A'] as const)) {
    const result = await memoryRound(cores[side], `${side}${pair}`, events);
    results[side].push(result);
    console.log(
      `pair ${pair + 1} ${side}: ${fmt(result.consume)} events/s, ${fmt(result.perCpuSecond)} per CPU-second`,
    );
  }
}
for (const side of ['A', 'B'] as const) {
  const rounds = results[side];
  console.log(
    `${side}: median ${fmt(median(rounds.map((r) => r.consume)))} events/s, ${fmt(
      median(rounds.map((r) => r.perCpuSecond)),
    )} per CPU-second`,
  );
}
const ratios = results.A.map((r, i) => results.B[i]!.perCpuSecond / r.perCpuSecond);
console.log(`B/A per CPU-second, pair by pair: ${ratios.map((r) => r.toFixed(2)).join(' ')}`);
