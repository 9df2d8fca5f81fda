/** A promise or other thenable, as `await` would treat it. */
export function isPromiseLike<T = unknown>(value: unknown): value is PromiseLike<T> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** A step's answer: the value itself when the step could finish synchronously, else a promise of it. */
export type MaybePromise<T> = T | Promise<T>;

/**
 * `onValue(value)` at once when `value` is not a promise, else once it resolves: the glue between
 * steps that answer synchronously when they can. A rejection (and a throw of `onValue` once
 * asynchronous) rejects the result; a synchronous throw of `onValue` is thrown.
 */
export function andThen<T, R>(
  value: T | PromiseLike<T>,
  onValue: (value: T) => MaybePromise<R>,
): MaybePromise<R> {
  return isPromiseLike<T>(value) ? Promise.resolve(value).then(onValue) : onValue(value);
}
