// The results chart, as SVG written by hand (no chart dependency). One line per figure: the bar says
// how Switchyard compares with the raw client — right of the centre line is better, left is worse,
// whichever way the figure counts (for "lower is better" figures the bar is raw / Switchyard) — on
// a log scale, with the target's line as a tick; then the absolute figures, the target and the
// verdict in words, so nothing depends on colour or on reading a bar's length.
import type { Row } from './figures.ts';

export interface ChartInput {
  readonly title: string;
  readonly subtitle: string;
  readonly rows: readonly Row[];
  /** Brokers asked for but not run (nothing listened, or excluded), named under the chart. */
  readonly notRun: readonly string[];
}

const xml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const GREEN = '#2e7d4f';
const RED = '#c0392b';
const GREY = '#8a96a3';

// Columns (x of the left edge, or of the right edge for numbers).
const WIDTH = 1120;
const LABEL_RIGHT = 196;
const BAR_LEFT = 210;
const BAR_WIDTH = 280;
const CENTRE = BAR_LEFT + BAR_WIDTH / 2;
const DOUBLINGS = 2; // the bar axis runs from ÷4 to ×4
const RAW_RIGHT = 620;
const SW_RIGHT = 730;
const RATIO_RIGHT = 790;
const TARGET_LEFT = 808;
const VERDICT_LEFT = 1030;
const ROW = 20;

export function formatValue(value: number, unit: string): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (unit === 'ev/s') return `${Math.round(value).toLocaleString('en')} ev/s`;
  return `${value.toFixed(unit === 'ms' ? 2 : 1)} ${unit}`;
}

/** How much better (> 1) or worse (< 1) Switchyard is than `reference`, whichever way the figure counts. */
function goodness(value: number, reference: number, higherIsBetter: boolean): number {
  return higherIsBetter ? value / reference : reference / value;
}

function barX(g: number): number {
  if (Number.isNaN(g)) return CENTRE;
  const log = g <= 0 ? -DOUBLINGS : g === Number.POSITIVE_INFINITY ? DOUBLINGS : Math.log2(g);
  const clamped = Math.max(-DOUBLINGS, Math.min(DOUBLINGS, log));
  return CENTRE + (clamped / DOUBLINGS) * (BAR_WIDTH / 2);
}

const text = (x: number, y: number, body: string, extra = '') =>
  `<text x="${x.toFixed(1)}" y="${y}"${extra}>${xml(body)}</text>`;

function verdictOf(row: Row): { word: string; colour: string } {
  if (row.met === undefined) return { word: 'no target', colour: GREY };
  return row.met ? { word: 'met', colour: GREEN } : { word: 'NOT MET', colour: RED };
}

function targetText(row: Row): string {
  if (!row.target) return '';
  const limit =
    row.limit === undefined || row.target.includes('≥ 300 000') ? '' : formatValue(row.limit, row.unit);
  const side = row.target.startsWith('<') ? '<' : row.higherIsBetter === false ? '≤' : '≥';
  return limit ? `${row.target} (${side} ${limit})` : row.target;
}

function figureLine(row: Row, y: number): string[] {
  const higher = row.higherIsBetter ?? row.unit === 'ev/s';
  const hasRaw = Number.isFinite(row.raw);
  // memory:// has no raw client: its bar compares the figure with its target instead.
  const reference = hasRaw ? row.raw : (row.limit ?? Number.NaN);
  const g = goodness(row.switchyard, reference, higher);
  const { word, colour } = verdictOf(row);
  const parts: string[] = [];
  parts.push(text(LABEL_RIGHT, y + 13, row.figure, ' text-anchor="end"'));
  if (!higher)
    parts.push(
      text(LABEL_RIGHT, y + 13 + 11, 'lower is better', ' text-anchor="end" font-size="9" fill="#666"'),
    );
  if (Number.isFinite(g) || g === Number.POSITIVE_INFINITY || g === 0) {
    const end = barX(g);
    const [from, to] = end >= CENTRE ? [CENTRE, end] : [end, CENTRE];
    parts.push(
      `<rect x="${from.toFixed(1)}" y="${y + 3}" width="${Math.max(1, to - from).toFixed(1)}" height="${ROW - 6}" fill="${colour}"/>`,
    );
    const clipped = Math.abs(Math.log2(g)) > DOUBLINGS;
    if (clipped)
      parts.push(
        text(
          end >= CENTRE ? end - 12 : end + 2,
          y + 13,
          end >= CENTRE ? '»' : '«',
          ' fill="white" font-weight="bold"',
        ),
      );
  } else {
    parts.push(text(CENTRE + 4, y + 13, 'n/a', ' fill="#888"'));
  }
  if (row.limit !== undefined) {
    const tick = barX(goodness(row.limit, reference, higher));
    parts.push(
      `<line x1="${tick.toFixed(1)}" y1="${y}" x2="${tick.toFixed(1)}" y2="${y + ROW}" stroke="#111" stroke-width="2"/>`,
    );
  }
  parts.push(text(RAW_RIGHT, y + 13, hasRaw ? formatValue(row.raw, row.unit) : '—', ' text-anchor="end"'));
  parts.push(text(SW_RIGHT, y + 13, formatValue(row.switchyard, row.unit), ' text-anchor="end"'));
  parts.push(
    text(RATIO_RIGHT, y + 13, Number.isFinite(row.ratio) ? row.ratio.toFixed(2) : '—', ' text-anchor="end"'),
  );
  parts.push(text(TARGET_LEFT, y + 13, targetText(row), ' fill="#333"'));
  parts.push(text(VERDICT_LEFT, y + 13, word, ` fill="${colour}" font-weight="bold"`));
  return parts;
}

export function resultsChart(input: ChartInput): string {
  const parts: string[] = [];
  let y = 52;
  // Column heads and the bar axis.
  const head = (x: number, body: string, anchor = 'start') =>
    text(x, y + 12, body, ` font-weight="bold" text-anchor="${anchor}"`);
  parts.push(
    head(RAW_RIGHT, 'raw client', 'end'),
    head(SW_RIGHT, 'Switchyard', 'end'),
    head(RATIO_RIGHT, 'sw/raw', 'end'),
    head(TARGET_LEFT, 'target'),
    head(VERDICT_LEFT, 'verdict'),
    text(BAR_LEFT, y + 12, '◀ worse', ' fill="#555"'),
    text(BAR_LEFT + BAR_WIDTH, y + 12, 'better ▶', ' fill="#555" text-anchor="end"'),
    text(CENTRE, y + 12, 'vs raw', ' fill="#555" text-anchor="middle"'),
  );
  y += 18;
  for (let d = -DOUBLINGS; d <= DOUBLINGS; d++) {
    const x = CENTRE + (d / DOUBLINGS) * (BAR_WIDTH / 2);
    const label = d === 0 ? '1' : d > 0 ? `×${2 ** d}` : `÷${2 ** -d}`;
    parts.push(text(x, y + 10, label, ' font-size="10" fill="#555" text-anchor="middle"'));
  }
  y += 14;
  const axisTop = y;
  let group = '';
  for (const row of input.rows) {
    if (row.broker !== group) {
      group = row.broker;
      y += 6;
      parts.push(
        `<line x1="8" y1="${y}" x2="${WIDTH - 8}" y2="${y}" stroke="#ddd"/>`,
        text(8, y + 16, group, ' font-weight="bold" font-size="13"'),
      );
      if (group.includes(' vs '))
        parts.push(
          text(
            BAR_LEFT + BAR_WIDTH + 20,
            y + 16,
            '(a library users pick instead: the raw-client column is this peer)',
            ' fill="#555" font-size="11"',
          ),
        );
      if (group === 'memory://')
        parts.push(
          text(
            BAR_LEFT + BAR_WIDTH + 20,
            y + 16,
            '(no raw client: the bar compares the figure with its target)',
            ' fill="#555" font-size="11"',
          ),
        );
      y += 22;
    }
    parts.push(...figureLine(row, y));
    y +=
      row.higherIsBetter === false || (row.higherIsBetter === undefined && row.unit !== 'ev/s')
        ? ROW + 6
        : ROW;
  }
  const axisBottom = y + 2;
  y += 14;
  const notes = [
    'bar: Switchyard against the raw client on a log scale (÷4 … ×4, » beyond); for "lower is better" figures the bar is raw / Switchyard,',
    'so right of the centre line is always better. Black tick: where the target puts the line. Colour repeats the verdict.',
    'Figures are medians of the rounds; sw/raw is the plain ratio of the two medians.',
  ];
  if (input.notRun.length > 0) notes.push(`Not run (no figures, no verdict): ${input.notRun.join(', ')}.`);
  for (const note of notes) {
    parts.push(text(8, y + 12, note, ' fill="#444" font-size="11"'));
    y += 16;
  }
  const height = y + 10;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="DejaVu Sans, Verdana, sans-serif" font-size="12">`,
    '<rect width="100%" height="100%" fill="white"/>',
    text(8, 22, input.title, ' font-size="16" font-weight="bold"'),
    text(8, 40, input.subtitle, ' fill="#555"'),
    ...parts,
    // Over the bars, so the parity line shows where a bar starts.
    `<line x1="${CENTRE}" y1="${axisTop}" x2="${CENTRE}" y2="${axisBottom}" stroke="#333" stroke-dasharray="3 3"/>`,
    '</svg>',
    '',
  ].join('\n');
}
