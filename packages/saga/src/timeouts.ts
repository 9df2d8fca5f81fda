import type { WireMessage } from '@switchyard/core';
import { timerMs, wholeNumber } from '@switchyard/core/transport';
import { dispatch } from './run-saga.ts';
import type { SagaStore } from './store.ts';

export interface SagaTimeoutsOptions {
  readonly store: SagaStore;
  /** Publishes timeout events for a store without an outbox (a Bus fits). */
  readonly bus: { publishWire(topic: string, messages: readonly WireMessage[]): Promise<void> };
  /** Pause between polls that found fewer than `batch` due timers. Default: 100 ms. */
  readonly intervalMs?: number;
  /** Timers fired per store call. Default: 200. */
  readonly batch?: number;
  /** A poll that failed (database down): reported, then retried after intervalMs. Default: ignore. */
  readonly onError?: (error: Error) => void;
}

export interface SagaTimeouts {
  /** Poll once now (tests, or a cron-driven process). Resolves with how many fired. */
  pollOnce(): Promise<number>;
  /** Stop polling; resolves once the poll in progress ended. */
  stop(): Promise<void>;
}

/**
 * The timer poller: fires due timers through the store (mark fired + emit, together). Run one per
 * process or several: each timer fires once. Timers are durable in the store, so one armed before
 * a restart fires after it.
 */
export function sagaTimeouts(options: SagaTimeoutsOptions): SagaTimeouts {
  // NaN, 0 or Infinity polled the store every millisecond (a timer runs those after 1 ms); a NaN
  // batch went to the store as its limit.
  const intervalMs = timerMs('intervalMs', options.intervalMs ?? 100);
  const batch = wholeNumber('batch', options.batch ?? 200);
  const emit = (messages: Parameters<typeof dispatch>[1]) => dispatch(options.bus, messages);
  let stopped = false;
  let wake: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;

  const pollOnce = () => options.store.fireDueTimers(batch, emit);

  const loop = async () => {
    while (!stopped) {
      let fired = 0;
      try {
        fired = await pollOnce();
      } catch (error) {
        options.onError?.(error instanceof Error ? error : new Error(String(error)));
      }
      if (stopped) break;
      if (fired >= batch) continue;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, intervalMs);
      });
    }
  };
  const running = loop();

  return {
    pollOnce,
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      wake?.();
      await running;
    },
  };
}
