import { TransportError } from '@switchyard/core';

/**
 * `connecting`, or a TransportError naming the brokers once `ms` passed. kafkajs bounds a TCP
 * connect (`connectionTimeoutMs`) but not a peer that accepts the connection and never answers:
 * the handshake then waits a request timeout per attempt, retried. On the deadline `abandon`
 * disconnects the client, so nothing keeps trying in the background.
 */
export async function withConnectDeadline<T>(
  connecting: Promise<T>,
  ms: number,
  brokers: readonly string[],
  abandon: () => Promise<unknown>,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void abandon().catch(() => undefined);
      reject(
        new TransportError(
          `Kafka at ${brokers.join(',')} did not complete the connection within ${ms} ms (connectTimeoutMs)`,
        ),
      );
    }, ms);
  });
  // What the abandoned attempt rejects with later is not news.
  connecting.catch(() => undefined);
  try {
    return await Promise.race([connecting, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
