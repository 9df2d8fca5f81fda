// The status of a group from its recent readings, in the manner of Burrow's evaluator: no fixed
// thresholds, only the direction of backlog and position over a sliding window. Pure, so each rule
// is tested on its own.
import type { GroupStatus } from './stats.ts';

/** What one `bus.inspect()` saw, kept in the window. */
export interface Reading {
  /** ms since epoch. */
  readonly at: number;
  readonly backlog: number | null;
  readonly position: string | null;
  readonly consumers: number | null;
}

/** Readings a judgement of WARN or STALL needs: two could be one slow handler between polls. */
export const MIN_READINGS = 3;

/**
 * Oldest reading first, the latest last.
 * - STOP: the broker says no member is attached (only where it can tell: `consumers === 0`).
 * - OK: nothing waits (latest backlog 0 or unknown), or too few readings to judge.
 * - STALL: the position is known and has not moved over the whole window while backlog stayed > 0.
 * - WARN: backlog never fell from one reading to the next and ended higher than it began.
 * - OK otherwise (backlog falling, or going up and down).
 */
export function groupStatus(window: readonly Reading[], minReadings = MIN_READINGS): GroupStatus {
  const latest = window.at(-1);
  if (latest === undefined) return 'OK';
  if (latest.consumers === 0) return 'STOP';
  if (latest.backlog === null || latest.backlog === 0) return 'OK';
  if (window.length < minReadings) return 'OK';
  const first = window[0]!;
  if (
    first.position !== null &&
    window.every((r) => r.position === first.position && r.backlog !== null && r.backlog > 0)
  ) {
    return 'STALL';
  }
  let growing = true;
  for (let i = 1; i < window.length && growing; i++) {
    const before = window[i - 1]!.backlog;
    const now = window[i]!.backlog;
    growing = before !== null && now !== null && now >= before;
  }
  if (growing && first.backlog !== null && latest.backlog > first.backlog) return 'WARN';
  return 'OK';
}
