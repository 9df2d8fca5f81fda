// Draw the chart of a results file again, without running the benchmark:
//   node --conditions=@switchyard/source benchmarks/src/redraw.ts benchmarks/results/<date>.json
// Writes <date>.svg beside it.
import { readFile, writeFile } from 'node:fs/promises';
import { resultsChart } from './chart.ts';
import { chartInput, type Report } from './chart-input.ts';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: redraw.ts results/<date>.json ...');
  process.exitCode = 2;
}
for (const file of files) {
  const report = JSON.parse(await readFile(file, 'utf8')) as Report;
  const svg = file.replace(/\.json$/, '.svg');
  await writeFile(svg, resultsChart(chartInput(report)));
  console.log(svg);
}
