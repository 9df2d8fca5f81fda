import { defer, type OperatorFunction } from 'rxjs';
import type { Delivery, EventDelivery } from '../delivery.ts';
import type { EventInput, SwitchyardEvent } from '../event.ts';
import { type DeadLetterOptions, deadLetter } from './dead-letter.ts';
import { type IdempotencyOptions, idempotent } from './idempotent.ts';
import { keyOrdered, type Step } from './key-ordered.ts';
import type { Outcome, OutcomeKind } from './outcome.ts';
import { type RetryOptions, retryDecision } from './retry.ts';
import { withTimeout } from './with-timeout.ts';

export interface HandlerContext<T = unknown> {
  readonly delivery: EventDelivery<T>;
  /** 1-based attempt at this event, counting broker redeliveries and in-process retries. */
  readonly attempt: number;
  /** Aborted when the attempt times out. */
  readonly signal: AbortSignal;
  /** Publish a follow-up: causationid = this event's id, correlationid and traceparent carried forward. */
  publish<U>(topic: string, input: EventInput<U>): Promise<SwitchyardEvent<U>>;
}

export type Handler<T> = (event: SwitchyardEvent<T>, context: HandlerContext<T>) => unknown;

export interface HandleOptions {
  /** Handlers running at once. Events with the same key still run one at a time, in order. Default: 1. */
  readonly concurrency?: number;
  /** An attempt running longer fails with HandlerTimeoutError. Default: 30 000 ms; 0 for none. */
  readonly timeoutMs?: number;
  /** Retry policy, see RetryOptions. Default: 3 attempts, exponential backoff from 100 ms. */
  readonly retry?: RetryOptions;
  /** Where events go after the last attempt, or at once when rejected or non-retryable. */
  readonly deadLetter?: DeadLetterOptions;
  /** Skip events this group has handled already. Off by default. */
  readonly idempotency?: IdempotencyOptions;
  /** The ordering key. Default: the event's `partitionkey`. Events without a key are not ordered. */
  readonly key?: (event: SwitchyardEvent) => string | undefined;
}

/** Delay before a delivery whose dead-lettering or idempotency claim failed comes back. */
const SETTLE_RETRY_MS = 1_000;
/** Broker-side retries remembered per subscription, so attempt counts survive them. */
const ATTEMPTS_REMEMBERED = 10_000;

/**
 * The consumer pipeline: decode → idempotent → key-ordered concurrency → timeout → retry →
 * dead-letter → settle. Emits one Outcome per attempt; every delivery is settled exactly once.
 */
export function handle<T>(
  handler: Handler<T>,
  options: HandleOptions = {},
): OperatorFunction<Delivery<T>, Outcome<T>> {
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const leaseMs = options.idempotency?.leaseMs ?? Math.max(60_000, 2 * timeoutMs);
  const keyOf = options.key ?? ((event: SwitchyardEvent) => event.partitionkey);

  return (source) =>
    defer(() => {
      const attemptsMade = new Map<string, number>();

      const outcome = (
        kind: OutcomeKind,
        delivery: Delivery<T>,
        attempt: number,
        startedAt: number,
        extra: Partial<Outcome<T>> = {},
      ): Outcome<T> => ({
        kind,
        delivery,
        event: delivery.event,
        attempt,
        durationMs: performance.now() - startedAt,
        ...extra,
      });

      const done = (o: Outcome<T>): Step<Outcome<T>> => ({ outcomes: [o], next: { kind: 'done' } });

      // Settling can fail (connection lost): the broker then redelivers, which is what release means.
      const settle = async (settling: Promise<void>, o: Outcome<T>): Promise<Outcome<T>> => {
        try {
          await settling;
          // The bus may have given the delivery back first (drain deadline): then it was not acked.
          if (o.kind !== 'released' && o.delivery.settledAs === 'nack' && o.kind !== 'retrying') {
            return { ...o, kind: 'released' };
          }
          return o;
        } catch (error) {
          return { ...o, kind: 'released', error: error as Error };
        }
      };

      const giveUp = async (
        delivery: Delivery<T>,
        kind: 'deadLettered' | 'rejected',
        reason: string,
        attempt: number,
        startedAt: number,
        error: Error,
      ) => {
        let topic: string;
        try {
          topic = await deadLetter(delivery, reason, attempt, options.deadLetter);
        } catch (publishError) {
          // Not dead-lettered means not acked: it comes back and we try again.
          return settle(
            delivery.nack({ delayMs: SETTLE_RETRY_MS }),
            outcome('retrying', delivery, attempt, startedAt, {
              error: publishError as Error,
              delayMs: SETTLE_RETRY_MS,
            }),
          );
        }
        return settle(
          delivery.ack(),
          outcome(kind, delivery, attempt, startedAt, { error, deadLetterTopic: topic }),
        );
      };

      const run = async (delivery: Delivery<T>, attempt: number): Promise<Step<Outcome<T>>> => {
        const startedAt = performance.now();
        if (delivery.invalid) {
          return done(
            await giveUp(
              delivery,
              'rejected',
              `rejected: ${delivery.invalid.message}`,
              attempt,
              startedAt,
              delivery.invalid,
            ),
          );
        }
        const event = delivery.event;
        const attemptHandler = () =>
          withTimeout(
            (signal) =>
              handler(event, {
                delivery,
                attempt,
                signal,
                publish: (topic, input) =>
                  delivery.origin.publish(topic, {
                    ...input,
                    causationid: input.causationid ?? event.id,
                    correlationid: input.correlationid ?? event.correlationid,
                    traceparent: input.traceparent ?? event.traceparent,
                  }),
              }),
            timeoutMs,
          );
        try {
          if (options.idempotency) {
            const result = await idempotent(
              options.idempotency,
              `${delivery.group}:${event.id}`,
              leaseMs,
              attemptHandler,
            );
            if (result.status === 'duplicate')
              return done(await settle(delivery.ack(), outcome('duplicate', delivery, attempt, startedAt)));
            if (result.status === 'busy') {
              return done(
                await settle(
                  delivery.nack({ delayMs: SETTLE_RETRY_MS }),
                  outcome('retrying', delivery, attempt, startedAt, { delayMs: SETTLE_RETRY_MS }),
                ),
              );
            }
          } else {
            await attemptHandler();
          }
        } catch (thrown) {
          const error = thrown instanceof Error ? thrown : new Error(String(thrown));
          const decision = retryDecision(options.retry, error, attempt);
          if (decision.kind === 'giveUp') {
            return done(await giveUp(delivery, 'deadLettered', decision.reason, attempt, startedAt, error));
          }
          const retrying = outcome('retrying', delivery, attempt, startedAt, {
            error,
            delayMs: decision.delayMs,
          });
          if (decision.kind === 'inProcess')
            return { outcomes: [retrying], next: { kind: 'again', delayMs: decision.delayMs } };
          remember(attemptsMade, event.id, attempt);
          const settled = await settle(delivery.nack({ delayMs: decision.delayMs }), retrying);
          const holdMs = decision.delayMs + (options.retry?.holdGraceMs ?? 10_000);
          return { outcomes: [settled], next: { kind: 'park', id: event.id, holdMs } };
        }
        return done(await settle(delivery.ack(), outcome('acked', delivery, attempt, startedAt)));
      };

      return source.pipe(
        keyOrdered<Delivery<T>, Outcome<T>>({
          concurrency,
          keyOf: (d) => (d.event ? keyOf(d.event) : undefined),
          idOf: (d) => d.event?.id,
          firstAttempt: (d) => Math.max(d.attempt, d.event ? (attemptsMade.get(d.event.id) ?? 0) + 1 : 0),
          run,
          shouldRelease: (d) => d.origin.closing,
          release: (d) => settle(d.nack(), outcome('released', d, d.attempt, performance.now())),
        }),
      );
    });
}

function remember(attempts: Map<string, number>, id: string, attempt: number): void {
  attempts.delete(id);
  attempts.set(id, attempt);
  if (attempts.size > ATTEMPTS_REMEMBERED) attempts.delete(attempts.keys().next().value as string);
}
