import { randomBytes } from 'node:crypto';

/**
 * Every name this module instance (one test file) hands out starts with it, so the file can sweep
 * what it left on a shared broker without touching another file's, or another run's, names.
 */
export const runPrefix = `cf-${randomBytes(3).toString('hex')}-`;

/** Topic and group names no other case or run shares: brokers keep state between runs. */
export function uniqueName(prefix: string): string {
  return `${runPrefix}${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}
