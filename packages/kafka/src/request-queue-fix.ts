import { kafkajsPrototype } from './kafkajs-internals.ts';

interface RequestQueueInternals {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
}

/** kafkajs's own interval for a queue that waits on its in-flight limit (requestQueue/index.js). */
const CHECK_PENDING_REQUESTS_INTERVAL = 10;

let installed = false;

/**
 * kafkajs 2.2.4 re-arms a timer on every connection's request queue after each check, even with
 * nothing pending and no throttle: `throttledUntil` starts at -1, so the delay is about minus the
 * epoch and Node runs it after 1 ms. Every connection then wakes the process a thousand times a
 * second for as long as it is open (an idle member used 4 % of a core here), and Node 24 prints a
 * TimeoutNegativeWarning for it (kafkajs #1704, #1751; the fixes proposed there, #1755 and #1768,
 * were never released). This schedules a check only when one can do something: requests are
 * pending, or a broker's throttle ends later. Once per process, as `rejoin-gate.ts` wraps its
 * method; a kafkajs without this method is left as it is.
 */
export function quietIdleRequestQueues(): void {
  if (installed) return;
  installed = true;
  const prototype = kafkajsPrototype('network/requestQueue/index.js');
  if (typeof prototype?.scheduleCheckPendingRequests !== 'function') return;
  prototype.scheduleCheckPendingRequests = function (this: RequestQueueInternals) {
    if (this.throttleCheckTimeoutId) return;
    const throttledFor = this.throttledUntil - Date.now();
    let delay: number;
    if (this.pending.length > 0) delay = throttledFor > 0 ? throttledFor : CHECK_PENDING_REQUESTS_INTERVAL;
    else if (throttledFor > 0) delay = throttledFor;
    // Nothing pending, nothing throttled: the next push() or fulfilled request checks again.
    else return;
    this.throttleCheckTimeoutId = setTimeout(() => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    }, delay);
  };
}
