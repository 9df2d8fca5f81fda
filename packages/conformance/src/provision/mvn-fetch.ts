import { execFile } from 'node:child_process';
import { existsSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface FetchResult {
  readonly libDir: string;
  /** 0 when the jars were already cached. */
  readonly fetchMs: number;
}

// Maven 3.8 has no safe concurrent access to ~/.m2; Kafka and ElasticMQ share scala-library & co.
let queue: Promise<unknown> = Promise.resolve();

/**
 * Copy a pom's runtime dependencies into `libDir` (Maven Central through ~/.m2), once: a marker
 * file says the copy completed, so an interrupted fetch is redone rather than half-used.
 */
export function fetchJars(
  pom: string,
  libDir: string,
  properties: Record<string, string>,
): Promise<FetchResult> {
  const task = queue.then(() => fetchNow(pom, libDir, properties));
  queue = task.catch(() => {});
  return task;
}

async function fetchNow(
  pom: string,
  libDir: string,
  properties: Record<string, string>,
): Promise<FetchResult> {
  const marker = join(libDir, '.complete');
  if (existsSync(marker)) return { libDir, fetchMs: 0 };
  const staging = `${libDir}.partial`;
  rmSync(staging, { recursive: true, force: true });
  const started = Date.now();
  const args = [
    '-B',
    '-q',
    '-f',
    pom,
    'dependency:copy-dependencies',
    `-DoutputDirectory=${staging}`,
    '-DincludeScope=runtime',
    ...Object.entries(properties).map(([key, value]) => `-D${key}=${value}`),
  ];
  try {
    await run('mvn', args, { maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const detail = error as { code?: string; stdout?: string; stderr?: string };
    if (detail.code === 'ENOENT')
      throw new Error('needs Maven (mvn) on PATH to fetch its jars from Maven Central');
    const output = `${detail.stdout ?? ''}${detail.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
    throw new Error(`mvn ${args.slice(4).join(' ')} failed:\n${output}`);
  }
  if (!existsSync(staging) || readdirSync(staging).length === 0)
    throw new Error(`mvn copied no jars from ${pom}`);
  writeFileSync(join(staging, '.complete'), `${new Date().toISOString()}\n`);
  rmSync(libDir, { recursive: true, force: true });
  renameSync(staging, libDir);
  return { libDir, fetchMs: Date.now() - started };
}
