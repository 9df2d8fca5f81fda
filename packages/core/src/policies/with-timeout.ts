import { HandlerTimeoutError } from '../errors.ts';
import { isPromiseLike, type MaybePromise } from '../promise.ts';
import { deadline, hasTimeout } from './deadlines.ts';

/**
 * The timeout step, as handle() composes it: run `work` and, if it returns a promise, fail it with
 * HandlerTimeoutError once `timeoutMs` have passed since the call (its synchronous part counts:
 * work that blocks before it awaits used that time). Work that returns or throws synchronously
 * answers at once and sets no deadline: no timer could fire while it ran, so it cannot have
 * overrun. Deadlines share one timer per `timeoutMs` (see deadlines.ts). `arg` is handed to
 * `work` and `onTimeout`, so a caller on the hot path needs no closure per call. `calledAt`: the
 * performance.now() the caller read just before, when it has one (a clock read less per call; the
 * deadline then counts from that earlier moment, never later).
 *
 * JavaScript cannot stop a running function: at the deadline `onTimeout(error, pending)` is told
 * first (abort the work's signal; `pending` settles when the work really stops), then the step
 * rejects; the work's late result is unused.
 */
export function timeoutStep<A, R>(
  work: (arg: A) => R | PromiseLike<R>,
  arg: A,
  timeoutMs: number | undefined,
  onTimeout?: (error: HandlerTimeoutError, pending: PromiseLike<R>, arg: A) => void,
  calledAt?: number,
): MaybePromise<R> {
  const timed = hasTimeout(timeoutMs);
  const called = timed ? (calledAt ?? performance.now()) : 0;
  const result = work(arg);
  if (!isPromiseLike<R>(result)) return result;
  if (!timed) return Promise.resolve(result);
  const pending = result;
  return new Promise<R>((resolve, reject) => {
    const timer = deadline(
      timeoutMs,
      () => {
        const error = new HandlerTimeoutError(timeoutMs);
        onTimeout?.(error, pending, arg);
        reject(error);
      },
      called,
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

/**
 * Run `work` with an AbortSignal that fires after `timeoutMs`; reject with HandlerTimeoutError then.
 * The promise form of timeoutStep (see there): a synchronous throw becomes a rejection like any
 * other failure. A handler that ignores the signal keeps running, its result unused.
 */
export function withTimeout<R>(
  work: (signal: AbortSignal) => R | PromiseLike<R>,
  timeoutMs: number | undefined,
): Promise<R> {
  const controller = new AbortController();
  try {
    return Promise.resolve(
      timeoutStep(work, controller.signal, timeoutMs, (error) => controller.abort(error)),
    );
  } catch (error) {
    return Promise.reject(error);
  }
}
