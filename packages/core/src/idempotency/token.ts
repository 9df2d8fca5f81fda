import { randomBytes } from 'node:crypto';

let prefix: string | undefined;
let counter = 0;

/**
 * A fresh owner token for one attempt's claim (fencing, see IdempotencyStore). Unique across
 * processes by a random per-process prefix, within one by a counter: no random bytes per event.
 */
export function ownerToken(): string {
  prefix ??= `${randomBytes(9).toString('base64url')}.`;
  counter += 1;
  return prefix + counter.toString(36);
}
