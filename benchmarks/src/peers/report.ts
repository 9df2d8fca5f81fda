// The peers table: for each broker and peer, the figures both measure, Switchyard beside the peer.
// The target (Switchyard ≥ every peer with the same guarantees) is judged only against peers that
// keep Switchyard's guarantees; a peer that gives some up is shown, marked, and not judged.
import type { Side } from '../driver.ts';
import { FIGURES, meets, type RoundResult } from '../figures.ts';
import { median } from '../measure.ts';
import type { Broker } from '../pairs.ts';
import { type Peer, peersOf } from './index.ts';

const COMPARED = ['publish single', 'publish batched', 'end to end', 'latency p99', 'peak RSS'];
const PUBLISH = ['publish single', 'publish batched'];

export interface PeerRow {
  broker: string;
  peer: string;
  figure: string;
  unit: string;
  peerValue: number;
  switchyard: number;
  /** Switchyard / peer. */
  ratio: number;
  guarantee: string;
  note?: string;
  met?: boolean;
  rounds: { peer: number[]; switchyard: number[] };
}

interface Rounds {
  broker: Broker;
  skipped?: string;
  rounds: Array<{ side: Side; result?: RoundResult }>;
}

export function peerRows(results: readonly Rounds[]): PeerRow[] {
  const rows: PeerRow[] = [];
  for (const entry of results) {
    if (entry.skipped) continue;
    const per = (side: Side, value: (r: RoundResult) => number) =>
      entry.rounds.filter((r) => r.side === side && r.result).map((r) => value(r.result!));
    for (const peer of peersOf(entry.broker)) {
      if (!entry.rounds.some((r) => r.side === peer.side)) continue;
      for (const figure of FIGURES.filter((f) => COMPARED.includes(f.label))) {
        const peerRounds = per(peer.side, figure.value);
        const swRounds = per('switchyard', figure.value);
        const peerValue = median(peerRounds);
        const switchyard = median(swRounds);
        const row: PeerRow = {
          broker: entry.broker,
          peer: peer.label,
          figure: figure.label,
          unit: figure.unit,
          peerValue,
          switchyard,
          ratio: switchyard / peerValue,
          guarantee: peer.weaker ? `weaker: ${peer.weaker}` : 'same',
          rounds: { peer: peerRounds, switchyard: swRounds },
        };
        if (peer.note) row.note = peer.note;
        // RSS is shown, not judged: a bigger client is not a broken promise.
        // A peer that failed every round is reported as such, not as beaten.
        // A consumer-only peer's publish figures are another client's: shown as what they are, and
        // not counted as a peer beaten or beating (the raw-client table judges that client).
        const borrowed = peer.publishesThrough !== undefined && PUBLISH.includes(figure.label);
        if (borrowed) row.guarantee = `not the peer: ${peer.publishesThrough}`;
        if (peerRounds.length === 0) row.guarantee = 'failed (see the errors below)';
        else if (!peer.weaker && !borrowed && figure.label !== 'peak RSS')
          row.met = meets(switchyard, peerValue, figure.higherIsBetter);
        rows.push(row);
      }
    }
  }
  return rows;
}

export function printPeerRows(rows: readonly PeerRow[], fmt: (n: number, unit: string) => string): void {
  if (rows.length === 0) return;
  const header = ['broker', 'peer', 'figure', 'peer', 'switchyard', 'sw/peer', 'guarantees', ''];
  const table = rows.map((r) => [
    r.broker,
    r.peer,
    `${r.figure} (${r.unit})`,
    fmt(r.peerValue, r.unit),
    fmt(r.switchyard, r.unit),
    Number.isFinite(r.ratio) ? r.ratio.toFixed(2) : '',
    r.guarantee,
    r.met === undefined ? '' : r.met ? 'met' : 'NOT MET',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i >= 3 && i <= 5 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  console.log('');
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of table) console.log(line(row));
  const notes = new Map<string, string>();
  for (const r of rows) if (r.note) notes.set(`${r.broker} / ${r.peer}`, r.note);
  for (const [who, note] of notes) console.log(`  ${who}: ${note}`);
}

export type { Peer };
