import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Status = 'pass' | 'fail' | 'n/a';

export interface CaseResult {
  readonly id: string;
  readonly title: string;
  readonly status: Status;
  /** For n/a: the capability or fact that makes the case not apply; for fail: the error. */
  readonly reason?: string;
  readonly durationMs: number;
  readonly notes?: Record<string, unknown>;
}

export interface RunResult {
  readonly transport: string;
  readonly finishedAt: string;
  readonly node: string;
  readonly cases: CaseResult[];
}

/** Results live at the workspace root, one file per transport, overwritten by each run. */
export const RESULTS_DIR =
  process.env.CONFORMANCE_RESULTS_DIR ??
  join(dirname(fileURLToPath(import.meta.url)), '../../../conformance-results');

export function writeResults(result: RunResult): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, `${result.transport}.json`), `${JSON.stringify(result, null, 2)}\n`);
}

export function readResults(): RunResult[] {
  let files: string[];
  try {
    files = readdirSync(RESULTS_DIR).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  return files.map((f) => JSON.parse(readFileSync(join(RESULTS_DIR, f), 'utf8')) as RunResult);
}
