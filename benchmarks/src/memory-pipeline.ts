// Throughput of memory:// through handle() with every policy on (memory-round.ts). One process,
// so one core. The publish rate is printed too. MEMORY_PROFILE=<file.cpuprofile> writes a CPU
// profile of the last round's consume phase alone. An untimed warm-up round runs first
// (MEMORY_WARMUP events, default as many as a round; 0: none). Run with --expose-gc (pnpm bench
// does) so each round starts from a collected heap.
//   node --conditions=@switchyard/source --expose-gc benchmarks/src/memory-pipeline.ts [events] [rounds]
import * as core from '../../packages/core/src/index.ts';
import { othersLoad } from './machine-load.ts';
import { memoryRound, type RoundHooks } from './memory-round.ts';
import { phaseProfile } from './phase-profile.ts';

const events = Number(process.argv[2] ?? 200_000);
const rounds = Number(process.argv[3] ?? 3);

// The last round's consume phase: the earlier rounds warm the code up.
const profile = await phaseProfile(process.env.MEMORY_PROFILE);
const profiled: RoundHooks = { consumeStarts: profile.start, consumeEnded: profile.stop };

const fmt = (n: number) => Math.round(n).toLocaleString('en');
// Each round leaves its whole backlog behind as old-space garbage (200 000 events: about 300 MB),
// which V8 collects whenever it likes: during the next round's consume it cost up to 200 ms of page
// faults and mark-compact, and rounds of one process ran 244 000-341 000 events/s. Collecting
// before each round, outside the timed phase, makes a round pay for its own work only: 303 000-
// 333 000 in the same six-round check. A service consuming its backlog has no previous round's.
const collect = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
// One untimed round first, as large as the others, so the figure is the steady state a running
// service sees, not the JIT compiling and the heap growing to hold the backlog (its fresh pages
// faulted in): the first round of a fresh process ran 84 000-174 000 events/s where the later ones
// ran 190 000-290 000, and after a 50 000-event warm-up still 181 000. MEMORY_WARMUP=0 leaves it out.
const warmup = Number(process.env.MEMORY_WARMUP ?? events);
if (warmup > 0) {
  collect();
  const { consume } = await memoryRound(core, 'warmup', warmup);
  console.log(`warm-up, not counted: ${warmup} events, ${fmt(consume)} events/s`);
}
const consumed: number[] = [];
for (let r = 0; r < rounds; r++) {
  collect();
  // What else ran meanwhile, printed with each round: the figure is this process's alone only on
  // a quiet machine.
  let others: (() => number | undefined) | undefined;
  let othersCores: number | undefined;
  const hooks = r === rounds - 1 ? profiled : {};
  const measured: RoundHooks = {
    consumeStarts: async () => {
      await hooks.consumeStarts?.();
      others = othersLoad();
    },
    consumeEnded: async () => {
      othersCores = others?.();
      await hooks.consumeEnded?.();
    },
  };
  const { publish, consume } = await memoryRound(core, String(r), events, measured);
  consumed.push(consume);
  const load = othersCores === undefined ? '' : `; other processes: ${othersCores.toFixed(2)} cores`;
  console.log(
    `round ${r + 1}: handle() ${fmt(consume)} events/s (publishBatch ${fmt(publish)} events/s${load})`,
  );
}
consumed.sort((a, b) => a - b);
console.log(
  `memory:// through handle(), all policies, ${events} × 1 KiB JSON, concurrency 16: median ${fmt(
    consumed[Math.floor(consumed.length / 2)]!,
  )} events/s`,
);
