// The figures each broker is measured on, and their targets. Shared by the run (main.ts) and by
// redraw.ts, which draws the chart again from a results file.
import type { ScenarioResult, ScenarioSettings, SlowResult } from './scenarios.ts';

export type RoundResult = ScenarioResult & SlowResult;

const MiB = 2 ** 20;

export interface Target {
  readonly text: string;
  /**
   * The Switchyard value the target puts the line at, from the raw client's median and the
   * settings: the target is met when the Switchyard median is on the good side of it.
   */
  readonly limit: (raw: number, s: ScenarioSettings) => number;
}

export interface Figure {
  readonly label: string;
  readonly unit: string;
  readonly higherIsBetter: boolean;
  readonly value: (r: RoundResult) => number;
  readonly target?: Target;
}

export const THROUGHPUT_TARGET: Target = { text: 'ratio ≥ 0.95', limit: (raw) => raw * 0.95 };

export const FIGURES: readonly Figure[] = [
  {
    label: 'publish single',
    unit: 'ev/s',
    higherIsBetter: true,
    value: (r) => r.publishSingle,
    target: THROUGHPUT_TARGET,
  },
  {
    label: 'publish batched',
    unit: 'ev/s',
    higherIsBetter: true,
    value: (r) => r.publishBatch,
    target: THROUGHPUT_TARGET,
  },
  { label: 'end to end', unit: 'ev/s', higherIsBetter: true, value: (r) => r.e2e, target: THROUGHPUT_TARGET },
  { label: 'latency p50', unit: 'ms', higherIsBetter: false, value: (r) => r.latencyP50 },
  {
    label: 'latency p99',
    unit: 'ms',
    higherIsBetter: false,
    value: (r) => r.latencyP99,
    target: { text: 'added ≤ 1 ms', limit: (raw) => raw + 1 },
  },
  { label: 'peak RSS', unit: 'MiB', higherIsBetter: false, value: (r) => r.peakRss / MiB },
  {
    label: 'backlog held over control',
    unit: 'MiB',
    higherIsBetter: false,
    value: (r) => Math.max(0, r.backlogHeld - r.controlHeld) / MiB,
    // Bounded: on the backlog, the slow consumer holds less than a quarter of the backlog's bytes
    // more than on a control of 2 × prefetch events (a consumer that buffers it holds all of them).
    target: { text: '< backlog bytes / 4', limit: (_raw, s) => (s.backlog * s.size) / 4 / MiB },
  },
];

/** memory:// through handle() with every policy, one core: an absolute target, no raw client. */
export const MEMORY_FIGURE = {
  broker: 'memory://',
  label: 'handle(), all policies',
  unit: 'ev/s',
  target: '≥ 300 000 ev/s (1 core)',
  limit: 300_000,
} as const;

/**
 * On the good side of the limit. NaN (a side that failed every round) compares false, so a
 * missing figure is never met.
 */
export function meets(value: number, limit: number, higherIsBetter: boolean): boolean {
  return higherIsBetter ? value >= limit : value <= limit;
}

/** One line of the report: a figure of one broker, medians of the rounds. */
export interface Row {
  broker: string;
  figure: string;
  unit: string;
  raw: number;
  switchyard: number;
  ratio: number;
  higherIsBetter?: boolean;
  target?: string;
  /** The Switchyard value the target puts the line at (see Target.limit). */
  limit?: number;
  met?: boolean;
  rounds?: { raw: number[]; switchyard: number[] };
}

/**
 * A summary verdict over some rows: undefined when there is none (nothing was run that has this
 * target), so a broker that was not run is never counted as met.
 */
export function verdict(rows: readonly Row[]): boolean | undefined {
  const judged = rows.filter((r) => r.met !== undefined);
  return judged.length === 0 ? undefined : judged.every((r) => r.met);
}
