/**
 * Resolves when `promise` settles or after `ms`, whichever is first; never rejects. For waits that
 * must not hold a stop or close up for ever (a server that does not answer).
 */
export async function bounded(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise.catch(() => {}),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}
