import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brokersDir } from './paths.ts';
import { isAlive } from './process.ts';
import { sleep } from './wait.ts';

/**
 * One launcher per broker at a time across processes (two terminals running tests, the CLI and
 * vitest): the second waits, then finds the first one's broker instead of racing it for the port.
 */
export async function withLaunchLock<T>(key: string, work: () => Promise<T>, waitMs = 300_000): Promise<T> {
  const dir = join(brokersDir, key, 'launch.lock');
  mkdirSync(join(brokersDir, key), { recursive: true });
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, 'pid'), String(process.pid));
      break;
    } catch {
      if (!holderAlive(dir)) {
        rmSync(dir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`another process holds ${dir} for over ${waitMs} ms`);
      await sleep(250);
    }
  }
  try {
    return await work();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function holderAlive(dir: string): boolean {
  try {
    return isAlive(Number(readFileSync(join(dir, 'pid'), 'utf8')));
  } catch {
    // Lock dir exists but its pid is not written yet: the holder is mid-acquire.
    return true;
  }
}
