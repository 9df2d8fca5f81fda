import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRepoRoot(start: string): string {
  let dir = start;
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no pnpm-workspace.yaml above ${start}`);
    dir = parent;
  }
  return dir;
}

/** The workspace root, found from this file so the CLI and vitest agree whatever their cwd. */
export const repoRoot = findRepoRoot(dirname(fileURLToPath(import.meta.url)));

/** Git-ignored home of fetched jars, broker data, logs and launch records. */
export const brokersDir = process.env.SWITCHYARD_BROKERS_DIR
  ? resolve(process.env.SWITCHYARD_BROKERS_DIR)
  : join(repoRoot, '.brokers');

export const scriptsDir = join(repoRoot, 'scripts');
