import type { Bus } from '@switchyard/core';
import { afterAll, describe, it } from 'vitest';
import type { CaseContext } from './cases/case.ts';
import { cases } from './cases/index.ts';
import { runPrefix } from './names.ts';
import { type CaseResult, writeResults } from './results.ts';
import type { ConformanceTarget } from './target.ts';

/**
 * The one suite every transport passes. Each case gets its own topics and buses; a case the target
 * cannot support by its declared capabilities is reported n/a with the capability named.
 */
export function runConformance(target: ConformanceTarget): void {
  describe(`conformance: ${target.name}`, () => {
    const results: CaseResult[] = [];
    afterAll(async () => {
      writeResults({
        transport: target.name,
        finishedAt: new Date().toISOString(),
        node: process.version,
        cases: results,
      });
      await target.sweep?.(runPrefix);
    });

    for (const c of cases) {
      it(c.title, { timeout: c.timeoutMs ?? 90_000 }, async (test) => {
        const started = performance.now();
        const reason = c.notApplicable?.(target.capabilities, target);
        if (reason) {
          results.push({ id: c.id, title: c.title, status: 'n/a', reason, durationMs: 0 });
          test.skip(`n/a: ${reason}`);
          return;
        }
        const cleanups: Array<() => unknown> = [];
        const notes: Record<string, unknown> = {};
        const context: CaseContext = {
          target,
          async bus(options) {
            const bus: Bus = await target.connect(options);
            cleanups.push(() => bus.close({ drainTimeoutMs: 2_000 }));
            return bus;
          },
          defer: (cleanup) => cleanups.push(cleanup),
          note: (key, value) => {
            notes[key] = value;
          },
        };
        try {
          await c.run(context);
          results.push({
            id: c.id,
            title: c.title,
            status: 'pass',
            durationMs: Math.round(performance.now() - started),
            notes,
          });
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          results.push({
            id: c.id,
            title: c.title,
            status: 'fail',
            reason: message.slice(0, 500),
            durationMs: Math.round(performance.now() - started),
            notes,
          });
          throw error;
        } finally {
          for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
        }
      });
    }
  });
}
