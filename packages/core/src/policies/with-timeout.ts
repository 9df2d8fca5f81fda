import { HandlerTimeoutError } from '../errors.ts';

/**
 * Run `work` with an AbortSignal that fires after `timeoutMs`; reject with HandlerTimeoutError then.
 * JavaScript cannot stop a running function: a handler that ignores the signal keeps running, its
 * result unused. A synchronous throw becomes a rejection like any other failure.
 */
export function withTimeout<R>(
  work: (signal: AbortSignal) => R | Promise<R>,
  timeoutMs: number | undefined,
): Promise<R> {
  if (timeoutMs === undefined || timeoutMs <= 0 || !Number.isFinite(timeoutMs)) {
    return new Promise<R>((resolve) => resolve(work(new AbortController().signal)));
  }
  const controller = new AbortController();
  return new Promise<R>((resolve, reject) => {
    const timer = setTimeout(() => {
      const error = new HandlerTimeoutError(timeoutMs);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
    new Promise<R>((inner) => inner(work(controller.signal))).then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
