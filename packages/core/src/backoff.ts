/** Delay before attempt `attempt + 1`, given that `attempt` (1-based) just failed. */
export type Backoff = (attempt: number) => number;

export type Jitter = 'none' | 'full' | 'equal';

export interface BackoffOptions {
  /** Delay after the first failure. */
  readonly initialMs: number;
  /** Upper bound on any delay. Default: 30 s. */
  readonly maxMs?: number;
  /** 'full': uniform in [0, d]; 'equal': uniform in [d/2, d]; 'none' (default): exactly d. */
  readonly jitter?: Jitter;
}

/** d = initialMs × factor^(attempt-1), capped at maxMs. */
export function exponentialBackoff(options: BackoffOptions & { readonly factor?: number }): Backoff {
  const factor = options.factor ?? 2;
  return (attempt) => jittered(options.initialMs * factor ** (attempt - 1), options);
}

/** d = initialMs × attempt, capped at maxMs. */
export function linearBackoff(options: BackoffOptions): Backoff {
  return (attempt) => jittered(options.initialMs * attempt, options);
}

/** d = delayMs every time. */
export function fixedBackoff(delayMs: number, jitter: Jitter = 'none'): Backoff {
  // Its own cap: a fixed delay is exactly what was asked for, not the 30 s default maxMs.
  return () => jittered(delayMs, { initialMs: delayMs, maxMs: delayMs, jitter });
}

/** Exactly these delays, then the last one again: `backoffSequence(100, 200)`. */
export function backoffSequence(...delaysMs: number[]): Backoff {
  return (attempt) => delaysMs[Math.min(attempt, delaysMs.length) - 1] ?? 0;
}

function jittered(delay: number, { maxMs = 30_000, jitter = 'none' }: BackoffOptions): number {
  const capped = Math.min(delay, maxMs);
  if (jitter === 'full') return Math.round(Math.random() * capped);
  if (jitter === 'equal') return Math.round(capped / 2 + (Math.random() * capped) / 2);
  return Math.round(capped);
}
