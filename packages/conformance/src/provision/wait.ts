import { createConnection } from 'node:net';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** True when something accepts TCP connections on host:port. */
export function isListening(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Retry `attempt` until it resolves or `timeoutMs` passes; the last error explains the failure.
 * `giveUp` ends the wait early (e.g. the launched process died).
 */
export async function retryUntil<T>(
  attempt: () => Promise<T>,
  options: { timeoutMs: number; intervalMs?: number; giveUp?: () => string | undefined },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      const stop = options.giveUp?.();
      if (stop) throw new Error(`${stop}; last error: ${messageOf(error)}`);
      if (Date.now() >= deadline) {
        throw new Error(`not ready after ${options.timeoutMs} ms: ${messageOf(error)}`);
      }
      await sleep(options.intervalMs ?? 500);
    }
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
