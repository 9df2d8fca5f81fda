import { cases } from './cases/index.ts';
import type { RunResult } from './results.ts';

/** A markdown table: one row per case, one column per transport: pass / FAIL / n/a (reason). */
export function renderMatrix(runs: readonly RunResult[]): string {
  const order = ['memory', 'kafka', 'rabbitmq', 'sqs', 'nats'];
  const sorted = [...runs].sort((a, b) => rank(order, a.transport) - rank(order, b.transport));
  const header = `| case | ${sorted.map((r) => r.transport).join(' | ')} |`;
  const rule = `|---|${sorted.map(() => '---').join('|')}|`;
  const rows = cases.map((c) => {
    const cells = sorted.map((run) => {
      const result = run.cases.find((r) => r.id === c.id);
      if (!result) return 'not run';
      if (result.status === 'n/a') return `n/a (${result.reason})`;
      return result.status === 'pass' ? 'pass' : '**FAIL**';
    });
    return `| ${c.id} | ${cells.join(' | ')} |`;
  });
  const when = sorted.map((r) => `${r.transport} ${r.finishedAt}`).join(', ');
  return [header, rule, ...rows, '', `Runs: ${when}`].join('\n');
}

function rank(order: string[], name: string): number {
  const i = order.indexOf(name);
  return i < 0 ? order.length : i;
}
