import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { sleep } from './wait.ts';

export interface Recipe {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly logFile: string;
  readonly env?: Readonly<Record<string, string>>;
  /** Run as this user (a root launcher starting a broker that must not run as root). */
  readonly uid?: number;
  readonly gid?: number;
  /** A string in the process's command line, so a recycled pid is not mistaken for our broker. */
  readonly marker: string;
}

/**
 * Start a broker process that outlives us: its own process group (so stopping it takes its
 * children too and Ctrl-C in our terminal does not), output appended to a log file.
 */
export function launchDetached(recipe: Recipe): number {
  mkdirSync(dirname(recipe.logFile), { recursive: true });
  const log = openSync(recipe.logFile, 'a');
  try {
    const child = spawn(recipe.command, recipe.args, {
      cwd: recipe.cwd,
      detached: true,
      stdio: ['ignore', log, log],
      env: { ...process.env, ...recipe.env },
      ...(recipe.uid !== undefined ? { uid: recipe.uid } : {}),
      ...(recipe.gid !== undefined ? { gid: recipe.gid } : {}),
    });
    if (child.pid === undefined) throw new Error(`could not start ${recipe.command} (see ${recipe.logFile})`);
    child.on('error', () => {});
    child.unref();
    return child.pid;
  } finally {
    closeSync(log);
  }
}

/** Alive and still the process we launched (a zombie or a recycled pid is not). */
export function isAlive(pid: number, marker?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return false;
    if (marker) return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker);
  } catch {
    // No procfs (macOS): signal 0 is all we can know.
  }
  return true;
}

/** SIGTERM the process group (a clean broker shutdown), SIGKILL it if it lingers. */
export async function stopProcessGroup(pid: number, graceMs = 30_000): Promise<void> {
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-pid, name);
    } catch {
      try {
        process.kill(pid, name);
      } catch {
        // Already gone.
      }
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) {
    signal('SIGKILL');
    while (isAlive(pid)) await sleep(50);
  }
}
