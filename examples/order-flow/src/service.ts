// What the services share: how they consume (the policies) and how they stop.
import {
  type Bus,
  exponentialBackoff,
  type HandleOptions,
  type IdempotencyStore,
  memoryIdempotencyStore,
  type Outcome,
} from '@switchyard/core';
import type { Topics } from './events.ts';

export interface ServiceOptions {
  /** Broker URL. Default: $BROKER_URL, else memory://. */
  readonly url?: string | undefined;
  readonly topics: Topics;
  /** Every Outcome of every handler, for the timeline and for metrics. */
  readonly onOutcome?: ((service: string, outcome: Outcome) => void) | undefined;
  /** A consumer stream failed (e.g. the broker connection was lost). */
  readonly onError?: ((service: string, error: Error) => void) | undefined;
}

export interface Service {
  readonly name: string;
  readonly bus: Bus;
  /** Stop consuming, let in-flight handlers finish, close the connection. */
  stop(): Promise<void>;
}

export function brokerUrl(options: ServiceOptions): string {
  return options.url ?? process.env.BROKER_URL ?? 'memory://';
}

/**
 * The same policy for every consumer in the flow:
 * - a failed attempt is retried twice, 100 ms then 200 ms later;
 * - what still fails, or cannot be decoded or fails its schema, goes to the dead-letter topic;
 * - with a `store`: an event id this group handled already is acked without running the handler again.
 */
export function policies(topics: Topics, store: IdempotencyStore | undefined): HandleOptions {
  return {
    concurrency: 8,
    timeoutMs: 10_000,
    retry: { maxAttempts: 3, backoff: exponentialBackoff({ initialMs: 100, maxMs: 1_000 }) },
    deadLetter: { topic: topics.deadLetters },
    ...(store ? { idempotency: { store } } : {}),
  };
}

/** One store per service: in production a shared one (Redis, a table) so all members see it. */
export function idempotencyStore(): IdempotencyStore {
  return memoryIdempotencyStore({ ttlMs: 86_400_000 });
}

/** Subscribe the service's consumer pipelines; `stop()` closes the bus, which drains them. */
export function running(
  name: string,
  bus: Bus,
  pipelines: ReadonlyArray<import('rxjs').Observable<Outcome>>,
  options: ServiceOptions,
): Service {
  const subscriptions = pipelines.map((outcomes$) =>
    outcomes$.subscribe({
      next: (outcome) => options.onOutcome?.(name, outcome),
      error: (error: Error) => options.onError?.(name, error),
    }),
  );
  return {
    name,
    bus,
    async stop() {
      await bus.close({ drainTimeoutMs: 5_000 });
      for (const subscription of subscriptions) subscription.unsubscribe();
    },
  };
}
