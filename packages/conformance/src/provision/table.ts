import { maskUrl } from './redact.ts';
import type { BrokerEndpoint } from './types.ts';

/** A broker's row, or a store's (PostgreSQL, Redis): the same columns. */
type Row = Omit<BrokerEndpoint, 'name'> & { readonly name: string };

const HOW: Record<BrokerEndpoint['provisioned'], string> = {
  env: 'env var',
  'previous-run': 'previous run (.brokers)',
  running: 'already running',
  docker: 'testcontainers',
  launched: 'launched here',
  none: '-',
};

/** The readiness table: one row per broker, credentials masked, reasons under the table. */
export function formatTable(brokers: readonly Row[], options: { timing?: boolean } = {}): string {
  const header = [
    'broker',
    'address',
    'provisioned',
    'server version',
    ...(options.timing === false ? [] : ['ready ms']),
  ];
  const rows = brokers.map((b) => [
    b.emulator ? `${b.name} (${b.emulator})` : b.name,
    b.available ? maskUrl(b.url) : 'UNAVAILABLE',
    HOW[b.provisioned] + (b.pid ? ` pid ${b.pid}` : ''),
    (b.version || '-') + (b.sns === undefined ? '' : b.sns ? ', SNS ok' : ', no SNS'),
    ...(options.timing === false ? [] : [String(b.readyMs)]),
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const reasons = brokers.filter((b) => b.reason).map((b) => `  ${maskUrl(b.reason!)}`);
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), ...reasons].join('\n');
}
