import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brokersDir, repoRoot } from '../paths.ts';
import type { Recipe } from '../process.ts';

const here = dirname(fileURLToPath(import.meta.url));

/** fauxqs's own port variable, so a developer with 4566 taken can move it. */
export function fauxqsPort(): number {
  return Number(process.env.FAUXQS_PORT ?? 4566);
}

function fauxqsVersion(): string {
  // Its package.json is not in its exports map, so find the file rather than resolve it.
  for (let dir = here; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'node_modules', 'fauxqs', 'package.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  }
  throw new Error(
    'fauxqs is not installed (it is a dependency of @switchyard/conformance: run pnpm install)',
  );
}

export function prepareFauxqs(port = fauxqsPort()): { recipe: Recipe; url: string; version: string } {
  const server = join(here, 'fauxqs-server.ts');
  return {
    recipe: {
      command: process.execPath,
      args: ['--disable-warning=ExperimentalWarning', server, String(port)],
      cwd: repoRoot,
      logFile: join(brokersDir, 'fauxqs', 'fauxqs.log'),
      marker: server,
    },
    url: `http://127.0.0.1:${port}`,
    version: `fauxqs ${fauxqsVersion()}`,
  };
}
