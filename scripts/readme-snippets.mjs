#!/usr/bin/env node
// Every ```ts block of a package README becomes a module compiled by `pnpm typecheck` in a strict
// project, so the READMEs' snippets compile as a user would write them. Each block is a whole
// module: imports included.
// - packages/core/README.md's go to type-tests/readme/, compiled by type-tests/tsconfig.json: core
//   alone, no transport imported (importing one changes what connect() accepts in the program).
// - Every other package's go to packages/<name>/.readme-snippets/ (git-ignored), compiled by
//   type-tests/packages/tsconfig.json with the same settings: written there, a snippet's imports
//   resolve as the package's users' do, to the package itself (as built) and its dependencies.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function extract(name, out) {
  const readme = `packages/${name}/README.md`;
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const text = readFileSync(join(root, readme), 'utf8');
  const blocks = [...text.matchAll(/^```ts\n([\s\S]*?)^```$/gm)];
  blocks.forEach((match, i) => {
    const line = text.slice(0, match.index).split('\n').length;
    const file = join(out, `snippet-${String(i + 1).padStart(2, '0')}.ts`);
    // The line comment maps a compile error back to the README; `export {}` makes it a module.
    writeFileSync(file, `// ${readme}:${line + 1}\n${match[1]}export {};\n`);
  });
  return blocks.length;
}

const core = extract('core', join(root, 'type-tests/readme'));
let others = 0;
for (const name of readdirSync(join(root, 'packages')).sort()) {
  if (name === 'core' || !existsSync(join(root, 'packages', name, 'README.md'))) continue;
  others += extract(name, join(root, 'packages', name, '.readme-snippets'));
}
console.log(
  `${core} snippets of packages/core/README.md in type-tests/readme/, ${others} of the other packages' READMEs in packages/*/.readme-snippets/`,
);
