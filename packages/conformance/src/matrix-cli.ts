// `pnpm conformance:matrix [--write-readme]`: print the transport × case table from the last runs.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderMatrix } from './matrix.ts';
import { readResults } from './results.ts';

const runs = readResults();
if (runs.length === 0) {
  process.stderr.write('No conformance results yet: run the tests first (pnpm test).\n');
  process.exit(1);
}
const table = renderMatrix(runs);
process.stdout.write(`${table}\n`);

if (process.argv.includes('--write-readme')) {
  const readme = join(dirname(fileURLToPath(import.meta.url)), '../../../README.md');
  const text = readFileSync(readme, 'utf8');
  const begin = '<!-- conformance-matrix:begin -->';
  const end = '<!-- conformance-matrix:end -->';
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  if (from < 0 || to < from) {
    process.stderr.write(`README.md has no ${begin} … ${end} markers\n`);
    process.exit(1);
  }
  writeFileSync(readme, `${text.slice(0, from + begin.length)}\n${table}\n${text.slice(to)}`);
  process.stdout.write('README.md updated\n');
}
