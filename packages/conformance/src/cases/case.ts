import type { Bus, Capabilities } from '@switchyard/core';
import type { ConformanceTarget } from '../target.ts';

export interface CaseContext {
  readonly target: ConformanceTarget;
  /** Connect a bus that is closed when the case ends, whatever happens. */
  bus(options?: { url?: string }): Promise<Bus>;
  /** Run at the end of the case, last registered first. */
  defer(cleanup: () => unknown): void;
  /** Facts worth keeping in the results file (distribution, timings). */
  note(key: string, value: unknown): void;
}

export interface Case {
  readonly id: string;
  /** States the pass criterion. */
  readonly title: string;
  /** Why the case does not apply to this target (names the capability), or undefined. */
  readonly notApplicable?: (capabilities: Capabilities, target: ConformanceTarget) => string | undefined;
  readonly timeoutMs?: number;
  run(context: CaseContext): Promise<void>;
}

export const requires =
  (capability: keyof Capabilities) =>
  (capabilities: Capabilities): string | undefined =>
    capabilities[capability] ? undefined : `needs capability ${capability}`;
