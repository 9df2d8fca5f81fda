// How much CPU other processes used while a phase ran, from Linux's /proc (elsewhere: unknown). A
// single-process figure such as memory:// moves with the machine; this tells the brokers' own
// leftover work (other processes' CPU) apart from what /proc cannot show (memory bandwidth, the
// host's other tenants).
import { readFileSync } from 'node:fs';

interface Sample {
  readonly busy: number;
  readonly self: number;
  readonly at: number;
}

function sample(): Sample | undefined {
  try {
    // cpu  user nice system idle iowait irq softirq steal ... (clock ticks, all cores)
    const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/);
    const [user, nice, system, , , irq, softirq, steal] = ticks.map(Number) as number[];
    // /proc/self/stat: fields 14 and 15 (utime, stime) after the parenthesised command name.
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
    const self = Number(fields[11]) + Number(fields[12]);
    return { busy: user! + nice! + system! + irq! + softirq! + (steal ?? 0), self, at: performance.now() };
  } catch {
    return undefined;
  }
}

/** Starts measuring; the function it returns gives other processes' CPU since, in cores (undefined off Linux). */
export function othersLoad(): () => number | undefined {
  const from = sample();
  return () => {
    const to = sample();
    if (from === undefined || to === undefined || to.at <= from.at) return undefined;
    // Clock ticks are 1/100 s on Linux.
    const otherTicks = to.busy - from.busy - (to.self - from.self);
    return Math.max(0, otherTicks / 100 / ((to.at - from.at) / 1_000));
  };
}
