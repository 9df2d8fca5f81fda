import { HandlerTimeoutError } from '../errors.ts';
import { isPromiseLike } from '../promise.ts';
import { deadline, hasTimeout } from './deadlines.ts';

/**
 * Run `work` with an AbortSignal that fires after `timeoutMs`; reject with HandlerTimeoutError then.
 * JavaScript cannot stop a running function: a handler that ignores the signal keeps running, its
 * result unused. A synchronous throw becomes a rejection like any other failure. Work that returns
 * synchronously is not timed out (no timer can fire while it runs) and sets no deadline at all;
 * asynchronous work's deadline counts from the call, its synchronous part included; deadlines
 * share one timer per `timeoutMs` (see deadlines.ts).
 */
export function withTimeout<R>(
  work: (signal: AbortSignal) => R | PromiseLike<R>,
  timeoutMs: number | undefined,
): Promise<R> {
  const controller = new AbortController();
  // The deadline counts from here: work that blocks before it awaits has used part of its time.
  const started = performance.now();
  let result: R | PromiseLike<R>;
  try {
    result = work(controller.signal);
  } catch (error) {
    return Promise.reject(error);
  }
  if (!hasTimeout(timeoutMs) || !isPromiseLike<R>(result)) return Promise.resolve(result);
  const pending = result;
  return new Promise<R>((resolve, reject) => {
    const timer = deadline(
      timeoutMs,
      () => {
        const error = new HandlerTimeoutError(timeoutMs);
        controller.abort(error);
        reject(error);
      },
      started,
    );
    pending.then(
      (value) => {
        if (timer.cancel()) resolve(value);
      },
      (error: unknown) => {
        if (timer.cancel()) reject(error);
      },
    );
  });
}
