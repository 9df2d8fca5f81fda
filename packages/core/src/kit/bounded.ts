/**
 * Resolves when `promise` settles or after `ms`, whichever is first; never rejects. For waits that
 * must not hold a stop or close up for ever (a server that does not answer). A bound no timer can
 * keep (over 2^31 - 1 ms, `Infinity`) is no bound: Node would run such a timer after 1 ms, so
 * `close({ drainTimeoutMs: Infinity })` waited 1 ms where it asked to wait for every handler.
 */
export async function bounded(promise: Promise<unknown>, ms: number): Promise<void> {
  if (ms > MAX_TIMER_MS) {
    await promise.catch(() => {});
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise.catch(() => {}),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}

/** The longest delay setTimeout keeps (2^31 - 1 ms, about 24.8 days); Node runs a longer one after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
