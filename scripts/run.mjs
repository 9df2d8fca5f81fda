#!/usr/bin/env node
// The root scripts' one entry: `npm run demo`, `npm test`, `pnpm bench`, ... all come here.
// Plain JavaScript on purpose: it must start on the Node a fresh machine has (20 and up), find or
// install the toolchain the repository needs (Node 24, pnpm 10: scripts/toolchain.sh), install
// the workspace when node_modules is missing or older than the lockfile, then run the task under
// that toolchain. On Node 24 with pnpm and an installed workspace it only runs the task.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const NEEDED_NODE = 24;

// The broker tools use raw kafkajs: give it @switchyard/kafka's timer fix (scripts/quiet-kafkajs.mjs).
const QUIET_KAFKAJS = ['--import', './scripts/quiet-kafkajs.mjs'];

// name -> the command under the toolchain; `node` means the toolchain's Node with the
// workspace's source condition (TypeScript sources run directly, by type stripping).
const TASKS = {
  demo: ['node', 'examples/order-flow/src/main.ts'],
  test: ['pnpm', 'exec', 'vitest', 'run'],
  bench: ['node', 'benchmarks/src/main.ts'],
  brokers: ['node', ...QUIET_KAFKAJS, 'packages/conformance/src/provision/cli.ts'],
  'conformance:matrix': ['node', ...QUIET_KAFKAJS, 'packages/conformance/src/matrix-cli.ts'],
  'soak:inbox': ['node', 'benchmarks/src/soak-inbox.ts'],
  dashboard: ['node', 'packages/dashboard/src/cli.ts', 'dashboard'],
};

function fail(message) {
  process.stderr.write(`switchyard: ${message}\n`);
  process.exit(1);
}

const [task, ...args] = process.argv.slice(2);
const command = TASKS[task];
if (!command) fail(`unknown task "${task}"; one of: ${Object.keys(TASKS).join(', ')}`);

const major = (version) => Number(/^v?(\d+)/.exec(version ?? '')?.[1] ?? 0);
const run = (file, argv, env, options = {}) =>
  spawnSync(file, argv, { cwd: root, env, stdio: 'inherit', ...options });

function nodeOn(path) {
  const found = spawnSync('node', ['-v'], { env: { ...process.env, PATH: path }, encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : '';
}

function pnpmOn(path) {
  const found = spawnSync('pnpm', ['-v'], { env: { ...process.env, PATH: path }, encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : '';
}

/** The PATH under which `node` is 24+ and `pnpm` is 10+: this one, or toolchain.sh's. */
function toolchainPath() {
  const current = process.env.PATH ?? '';
  if (major(process.version) >= NEEDED_NODE && major(pnpmOn(current)) >= 10) return current;
  if (process.platform === 'win32')
    fail(
      `needs Node ${NEEDED_NODE}+ and pnpm 10+ (found Node ${process.version}); install both, then run this again`,
    );
  const script = join(root, 'scripts', 'toolchain.sh');
  const made = spawnSync('bash', [script], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const path = /export PATH="(.*)"/.exec(made.stdout ?? '')?.[1];
  if (made.status !== 0 || !path)
    fail(
      `needs Node ${NEEDED_NODE}+ and pnpm 10+ (found Node ${process.version}) and could not install them ` +
        `with scripts/toolchain.sh (npm must reach its registry); install Node ${NEEDED_NODE} yourself, then run this again`,
    );
  if (major(nodeOn(path)) < NEEDED_NODE)
    fail(`scripts/toolchain.sh left Node ${nodeOn(path) || 'none'} on PATH`);
  return path;
}

/** Install when node_modules is missing or older than the lockfile (a pull changed it). */
function ensureInstalled(env) {
  const marker = join(root, 'node_modules', '.modules.yaml');
  const lock = join(root, 'pnpm-lock.yaml');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  const installed = run('pnpm', ['install', '--frozen-lockfile'], env);
  if (installed.status !== 0) process.exit(installed.status ?? 1);
}

const path = toolchainPath();
const env = { ...process.env, PATH: path };
ensureInstalled(env);
const [file, ...rest] = command;
const argv = file === 'node' ? ['--conditions=@switchyard/source', ...rest, ...args] : [...rest, ...args];
// Ctrl-C reaches the child through the terminal's process group; wait for it to finish its drain.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});
const result = run(file, argv, env);
if (result.error) fail(`could not start ${file}: ${result.error.message}`);
process.exit(result.status ?? (result.signal ? 1 : 0));
