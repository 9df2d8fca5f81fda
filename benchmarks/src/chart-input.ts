// From a results report (what main.ts writes to results/<date>.json) to the chart's input, so a
// chart can be drawn again from a results file without running the benchmark (redraw.ts).
import type { ChartInput } from './chart.ts';
import { FIGURES, MEMORY_FIGURE, meets, type Row } from './figures.ts';
import type { PeerRow } from './peers/report.ts';
import type { ScenarioSettings } from './scenarios.ts';

export interface Report {
  readonly date: string;
  readonly machine: { cpu: string; cores: number; node: string; loadavgAtStart: number[] };
  readonly brokers: ReadonlyArray<{ broker: string; settings: ScenarioSettings; skipped?: string }>;
  readonly memory?: { median: number } | { error: string };
  readonly table: readonly Row[];
  readonly peers?: { readonly table: readonly PeerRow[] } | undefined;
}

/**
 * Each row with its direction, the line its target draws and the verdict against that line.
 * Results files from before the limit was recorded get it from the figure's definition.
 */
export function completeRow(row: Row, settings: ScenarioSettings | undefined): Row {
  if (row.broker === MEMORY_FIGURE.broker) {
    return {
      ...row,
      higherIsBetter: true,
      limit: MEMORY_FIGURE.limit,
      met: meets(row.switchyard, MEMORY_FIGURE.limit, true),
    };
  }
  const figure = FIGURES.find((f) => f.label === row.figure);
  if (!figure) return row;
  const limit = row.limit ?? (figure.target && settings ? figure.target.limit(row.raw, settings) : undefined);
  return {
    ...row,
    higherIsBetter: figure.higherIsBetter,
    ...(limit === undefined ? {} : { limit, met: meets(row.switchyard, limit, figure.higherIsBetter) }),
  };
}

export function chartInput(report: Report): ChartInput {
  const day = report.date.slice(0, 10);
  const size = report.brokers[0]?.settings.size;
  const m = report.machine;
  const settings = (broker: string) => report.brokers.find((b) => b.broker === broker)?.settings;
  const notRun = report.brokers.filter((b) => b.skipped).map((b) => `${b.broker} (${b.skipped})`);
  if (report.memory && 'error' in report.memory) notRun.push(`memory:// (${report.memory.error})`);
  return {
    title: `Switchyard against the raw client, ${day}`,
    subtitle: `${m.cpu}, ${m.cores} cores, Node ${m.node}, load ${m.loadavgAtStart.join(' ')} at start${size ? `; ${size} B events` : ''}`,
    rows: [
      ...report.table.map((row) => completeRow(row, settings(row.broker))),
      ...(report.peers?.table ?? []).map(peerChartRow),
    ],
    notRun,
  };
}

/** A peer's figure drawn as a raw-vs-Switchyard line whose "raw" is the peer (its group says so). */
function peerChartRow(row: PeerRow): Row {
  const figure = FIGURES.find((f) => f.label === row.figure);
  const higherIsBetter = figure?.higherIsBetter ?? row.unit === 'ev/s';
  const judged = row.met !== undefined;
  return {
    broker: `${row.broker} vs ${row.peer}`,
    figure: row.figure,
    unit: row.unit,
    raw: row.peerValue,
    switchyard: row.switchyard,
    ratio: row.ratio,
    higherIsBetter,
    ...(judged
      ? { target: higherIsBetter ? '≥ the peer' : '≤ the peer', limit: row.peerValue, met: row.met }
      : {}),
    ...(row.guarantee === 'same' ? {} : { target: row.guarantee.slice(0, 40) }),
  };
}
