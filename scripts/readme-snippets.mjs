#!/usr/bin/env node
// Every ```ts block of packages/core/README.md becomes type-tests/readme/<n>.ts, compiled by
// `pnpm typecheck` in the strict type-test project (type-tests/tsconfig.json), so the README's
// snippets compile as a user would write them. Each block is a whole module: imports included.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const readme = join(root, 'packages/core/README.md');
const out = join(root, 'type-tests/readme');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const text = readFileSync(readme, 'utf8');
const blocks = [...text.matchAll(/^```ts\n([\s\S]*?)^```$/gm)];
blocks.forEach((match, i) => {
  const line = text.slice(0, match.index).split('\n').length;
  const file = join(out, `snippet-${String(i + 1).padStart(2, '0')}.ts`);
  // The line comment maps a compile error back to the README; `export {}` makes it a module.
  writeFileSync(file, `// packages/core/README.md:${line + 1}\n${match[1]}export {};\n`);
});
console.log(`${blocks.length} snippets of packages/core/README.md in type-tests/readme/`);
