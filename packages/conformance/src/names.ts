import { randomBytes } from 'node:crypto';

/** Topic and group names no other case or run shares: brokers keep state between runs. */
export function uniqueName(prefix: string): string {
  return `cf-${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}
