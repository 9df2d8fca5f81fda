// A small SVG bar chart of the Switchyard / raw ratios, written by hand (no chart dependency).

export interface ChartRow {
  readonly group: string;
  readonly label: string;
  /** Switchyard / raw. */
  readonly ratio: number;
  readonly higherIsBetter: boolean;
  readonly met: boolean | undefined;
}

const xml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** One horizontal bar per row, grouped by broker, with the parity line at 1.0. */
export function ratioChart(title: string, subtitle: string, rows: readonly ChartRow[]): string {
  const rowHeight = 18;
  const left = 260;
  const width = 760;
  const plot = width - left - 90;
  const top = 56;
  const finite = rows.map((r) => r.ratio).filter((r) => Number.isFinite(r));
  const max = Math.max(1.2, ...finite.map((r) => Math.min(r, 4)));
  const x = (ratio: number) => left + (Math.min(ratio, max) / max) * plot;
  const parts: string[] = [];
  let y = top;
  let group = '';
  for (const row of rows) {
    if (row.group !== group) {
      group = row.group;
      y += 8;
      parts.push(`<text x="8" y="${y + 12}" font-weight="bold">${xml(group)}</text>`);
      y += rowHeight;
    }
    const ratio = row.ratio;
    const color = row.met === undefined ? '#8899aa' : row.met ? '#3a8f5c' : '#c0504d';
    parts.push(`<text x="${left - 8}" y="${y + 12}" text-anchor="end">${xml(row.label)}</text>`);
    if (Number.isFinite(ratio)) {
      parts.push(
        `<rect x="${left}" y="${y + 2}" width="${(x(ratio) - left).toFixed(1)}" height="${rowHeight - 5}" fill="${color}"/>`,
        `<text x="${(x(ratio) + 4).toFixed(1)}" y="${y + 12}">${ratio.toFixed(2)}${ratio > max ? ' →' : ''}${row.higherIsBetter ? '' : ' (lower is better)'}</text>`,
      );
    } else {
      parts.push(`<text x="${left + 4}" y="${y + 12}" fill="#888">n/a</text>`);
    }
    y += rowHeight;
  }
  const height = y + 34;
  const one = x(1).toFixed(1);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="8" y="20" font-size="15" font-weight="bold">${xml(title)}</text>`,
    `<text x="8" y="38" fill="#555">${xml(subtitle)}</text>`,
    ...parts,
    `<line x1="${one}" y1="${top}" x2="${one}" y2="${y + 4}" stroke="#333" stroke-dasharray="4 3"/>`,
    `<text x="${one}" y="${y + 18}" text-anchor="middle" fill="#333">1.0 = same as the raw client</text>`,
    `<text x="8" y="${y + 18}" fill="#555">green: target met, red: not met, grey: no target</text>`,
    '</svg>',
    '',
  ].join('\n');
}
