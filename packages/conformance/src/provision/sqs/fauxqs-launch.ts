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

/** `place` makes a private one (the restart case's): its own port, log, and state kept on disk. */
export function prepareFauxqs(
  port = fauxqsPort(),
  place?: { home: string },
): { recipe: Recipe; url: string; version: string } {
  const server = join(here, 'fauxqs-server.ts');
  const state = place ? [join(place.home, 'state')] : [];
  return {
    recipe: {
      command: process.execPath,
      args: ['--disable-warning=ExperimentalWarning', server, String(port), ...state],
      cwd: repoRoot,
      logFile: place ? join(place.home, 'fauxqs.log') : join(brokersDir, 'fauxqs', 'fauxqs.log'),
      marker: place ? place.home : server,
    },
    url: `http://127.0.0.1:${port}`,
    version: `fauxqs ${fauxqsVersion()}`,
  };
}
