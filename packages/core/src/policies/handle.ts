import { defer, type OperatorFunction } from 'rxjs';
import { BusDelivery, type Delivery, type EventDelivery } from '../delivery.ts';
import { HandlerTimeoutError, LeaseLostError } from '../errors.ts';
import type { EventInput, SwitchyardEvent } from '../event.ts';
import type { ClaimResult } from '../idempotency/store.ts';
import { ownerToken } from '../idempotency/token.ts';
import { isPromiseLike } from '../promise.ts';
import { type DeadLetterOptions, deadLetter } from './dead-letter.ts';
import { deadline, hasTimeout } from './deadlines.ts';
import { completionTtl, type IdempotencyOptions } from './idempotent.ts';
import { keyOrdered, type Step, settlingBound } from './key-ordered.ts';
import type { Outcome, OutcomeKind } from './outcome.ts';
import { type RetryOptions, retryDecision } from './retry.ts';

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

const NO_OUTCOMES: readonly never[] = Object.freeze([]);
const DONE = Object.freeze({ kind: 'done' as const });

/**
 * What a handler gets besides the event. The AbortSignal is made only when asked for (most
 * handlers never look at it); `publish` is bound, so it may be destructured.
 */
class Context<T> implements HandlerContext<T> {
  readonly delivery: EventDelivery<T>;
  readonly attempt: number;
  #controller: AbortController | undefined = undefined;
  #reason: Error | undefined = undefined;
  #publish: HandlerContext<T>['publish'] | undefined = undefined;

  constructor(delivery: EventDelivery<T>, attempt: number) {
    this.delivery = delivery;
    this.attempt = attempt;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#reason !== undefined) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  get publish(): HandlerContext<T>['publish'] {
    this.#publish ??= (topic, input) => {
      const event = this.delivery.event;
      return this.delivery.origin.publish(topic, {
        ...input,
        causationid: input.causationid ?? event.id,
        correlationid: input.correlationid ?? event.correlationid,
        traceparent: input.traceparent ?? event.traceparent,
      });
    };
    return this.#publish;
  }

  static abort(context: Context<unknown>, reason: Error): void {
    context.#reason = reason;
    context.#controller?.abort(reason);
  }
}

type Result<T> = Step<Outcome<T>> | Promise<Step<Outcome<T>>>;

/**
 * The consumer pipeline: decode → idempotent → key-ordered concurrency → timeout → retry →
 * dead-letter → settle. Emits one Outcome per attempt; every delivery is settled exactly once.
 *
 * An attempt holds its concurrency slot (and its key) until its outcome is decided: the handler
 * finished (or timed out), the idempotency record is written, a dead letter is confirmed. The ack
 * or nack that follows is tracked on its own (`Step.settling`): the outcome is emitted once the
 * broker confirmed it, and bus.close() waits for it, but the next handler does not. At most the
 * subscription's prefetch (at least settlingBound(concurrency)) settles wait for the broker at
 * once: a transport that holds its prefetch slot until the broker confirmed (Kafka's offset
 * commit) never reaches that bound, and one that frees it when ack() is called (NATS) cannot pile
 * up more than that.
 *
 * Each step runs synchronously when it can: a handler that returns a value (not a promise) with a
 * store that answers synchronously costs no promise and no timer until the settle.
 */
export function handle<T>(
  handler: Handler<T>,
  options: HandleOptions = {},
): OperatorFunction<Delivery<T>, Outcome<T>> {
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const timed = hasTimeout(timeoutMs);
  const leaseMs = options.idempotency?.leaseMs ?? Math.max(60_000, 2 * timeoutMs);
  const keyOf = options.key ?? ((event: SwitchyardEvent) => event.partitionkey);
  const idempotency = options.idempotency;
  // A store that answers synchronously is called that way: no promise per call.
  const store = idempotency ? (idempotency.store.sync ?? idempotency.store) : undefined;
  const ttlMs = idempotency ? completionTtl(idempotency) : 0;

  return (source) =>
    defer(() => {
      const attemptsMade = new Map<string, number>();

      const outcome = (
        kind: OutcomeKind,
        delivery: Delivery<T>,
        attempt: number,
        startedAt: number,
        extra?: Partial<Outcome<T>>,
      ): Outcome<T> =>
        extra === undefined
          ? { kind, delivery, event: delivery.event, attempt, durationMs: performance.now() - startedAt }
          : {
              kind,
              delivery,
              event: delivery.event,
              attempt,
              durationMs: performance.now() - startedAt,
              ...extra,
            };

      // Settling can fail (connection lost): the broker then redelivers, which is what release means.
      const settle = (settling: Promise<void>, o: Outcome<T>): Promise<Outcome<T>> =>
        settling.then(
          () =>
            // The bus may have given the delivery back first (drain deadline): then it was not acked.
            o.kind !== 'released' && o.kind !== 'retrying' && o.delivery.settledAs === 'nack'
              ? { ...o, kind: 'released' }
              : o,
          (error: unknown) => ({ ...o, kind: 'released', error: error as Error }),
        );

      /** The attempt is over; its last outcome follows when the broker confirmed the settle. */
      const settled = (settling: Promise<Outcome<T>>): Step<Outcome<T>> => ({
        outcomes: NO_OUTCOMES,
        next: DONE,
        settling,
      });

      const ack = (delivery: Delivery<T>, kind: OutcomeKind, attempt: number, startedAt: number) =>
        settled(settle(delivery.ack(), outcome(kind, delivery, attempt, startedAt)));

      const comeBackLater = (delivery: Delivery<T>, attempt: number, startedAt: number, error?: Error) =>
        settled(
          settle(
            delivery.nack({ delayMs: SETTLE_RETRY_MS }),
            outcome('retrying', delivery, attempt, startedAt, {
              ...(error ? { error } : {}),
              delayMs: SETTLE_RETRY_MS,
            }),
          ),
        );

      const giveUp = async (
        delivery: Delivery<T>,
        kind: 'deadLettered' | 'rejected',
        reason: string,
        attempt: number,
        startedAt: number,
        error: Error,
      ): Promise<Step<Outcome<T>>> => {
        let topic: string;
        try {
          topic = await deadLetter(delivery, reason, attempt, options.deadLetter);
        } catch (publishError) {
          // Not dead-lettered means not acked: it comes back and we try again.
          return comeBackLater(delivery, attempt, startedAt, publishError as Error);
        }
        return settled(
          settle(
            delivery.ack(),
            outcome(kind, delivery, attempt, startedAt, { error, deadLetterTopic: topic }),
          ),
        );
      };

      /** The attempt failed with `thrown`: retry here, retry through the broker, or dead-letter. */
      const failed = (
        delivery: EventDelivery<T>,
        attempt: number,
        startedAt: number,
        thrown: unknown,
      ): Result<T> => {
        const error = thrown instanceof Error ? thrown : new Error(String(thrown));
        const decision = retryDecision(options.retry, error, attempt);
        if (decision.kind === 'giveUp') {
          return giveUp(delivery, 'deadLettered', decision.reason, attempt, startedAt, error);
        }
        const retrying = outcome('retrying', delivery, attempt, startedAt, {
          error,
          delayMs: decision.delayMs,
        });
        if (decision.kind === 'inProcess')
          return { outcomes: [retrying], next: { kind: 'again', delayMs: decision.delayMs } };
        const id = delivery.event.id;
        remember(attemptsMade, id, attempt);
        const holdMs = decision.delayMs + (options.retry?.holdGraceMs ?? 10_000);
        return {
          outcomes: NO_OUTCOMES,
          next: { kind: 'park', id, holdMs },
          settling: settle(delivery.nack({ delayMs: decision.delayMs }), retrying),
        };
      };

      /** The handler succeeded: record it (idempotency), then ack. */
      const succeeded = (
        delivery: EventDelivery<T>,
        attempt: number,
        startedAt: number,
        claim: string,
        token: string,
      ): Result<T> => {
        if (store === undefined) return ack(delivery, 'acked', attempt, startedAt);
        // Fenced out: another member took the claim, so this attempt is not the one that counts.
        const lost = () => comeBackLater(delivery, attempt, startedAt, new LeaseLostError(claim));
        let recorded: boolean | Promise<boolean>;
        try {
          recorded = store.complete(claim, token, ttlMs);
        } catch (error) {
          recorded = Promise.reject(error);
        }
        if (!isPromiseLike<boolean>(recorded))
          return recorded ? ack(delivery, 'acked', attempt, startedAt) : lost();
        return recorded.then(
          (done) => (done ? ack(delivery, 'acked', attempt, startedAt) : lost()),
          // The work is done and must be acked; an unrecorded id only weakens de-duplication of a
          // later copy. Dropping the claim keeps that copy from waiting out the lease.
          () =>
            (storeCall(() => store.release(claim, token)) ?? Promise.resolve()).then(
              () => ack(delivery, 'acked', attempt, startedAt),
              () => ack(delivery, 'acked', attempt, startedAt),
            ),
        );
      };

      /** The handler failed: drop the claim (idempotency) so a retry may run it, then decide. */
      const failedClaimed = (
        delivery: EventDelivery<T>,
        attempt: number,
        startedAt: number,
        claim: string,
        token: string,
        thrown: unknown,
      ): Result<T> => {
        if (store === undefined) return failed(delivery, attempt, startedAt, thrown);
        const released = storeCall(() => store.release(claim, token));
        if (released === undefined) return failed(delivery, attempt, startedAt, thrown);
        // A release that fails is what the attempt failed with, as when it ran through idempotent().
        return released.then(
          () => failed(delivery, attempt, startedAt, thrown),
          (releaseError: unknown) => failed(delivery, attempt, startedAt, releaseError),
        );
      };

      /** Run the handler under the timeout; synchronously when it returns synchronously. */
      const invoke = (
        delivery: EventDelivery<T>,
        attempt: number,
        startedAt: number,
        claim: string,
        token: string,
      ): Result<T> => {
        const context = new Context(delivery, attempt);
        // The deadline counts from the call: a handler that blocks before it awaits used that time.
        const called = timed ? performance.now() : 0;
        let returned: unknown;
        try {
          returned = handler(delivery.event, context);
        } catch (thrown) {
          return failedClaimed(delivery, attempt, startedAt, claim, token, thrown);
        }
        // A handler that returned cannot have overrun: no timer could fire while it ran.
        if (!isPromiseLike(returned)) return succeeded(delivery, attempt, startedAt, claim, token);
        const pending = returned;
        return new Promise<Step<Outcome<T>>>((resolve, reject) => {
          const next = (step: () => Result<T>) => {
            try {
              resolve(step());
            } catch (error) {
              reject(error);
            }
          };
          const timer = timed
            ? deadline(
                timeoutMs,
                () => {
                  const error = new HandlerTimeoutError(timeoutMs);
                  Context.abort(context as Context<unknown>, error);
                  if (store !== undefined) {
                    // The handler may run on after its deadline (not every handler heeds the
                    // signal): its claim is held until it stops, so a retry finds the id busy
                    // rather than running beside it. Whatever it ended with, the retry runs it
                    // again: a late success is not trusted to have finished its work.
                    const releaseLate = () =>
                      void storeCall(() => store.release(claim, token))?.catch(() => {});
                    pending.then(releaseLate, releaseLate);
                  }
                  next(() => failed(delivery, attempt, startedAt, error));
                },
                called,
              )
            : undefined;
          pending.then(
            () => {
              if (timer === undefined || timer.cancel())
                next(() => succeeded(delivery, attempt, startedAt, claim, token));
            },
            (thrown: unknown) => {
              if (timer === undefined || timer.cancel())
                next(() => failedClaimed(delivery, attempt, startedAt, claim, token, thrown));
            },
          );
        });
      };

      const claimed = (
        delivery: EventDelivery<T>,
        attempt: number,
        startedAt: number,
        claim: string,
        token: string,
        result: ClaimResult,
      ): Result<T> => {
        if (result === 'done') return ack(delivery, 'duplicate', attempt, startedAt);
        if (result === 'busy') return comeBackLater(delivery, attempt, startedAt);
        return invoke(delivery, attempt, startedAt, claim, token);
      };

      const run = (delivery: Delivery<T>, attempt: number): Result<T> => {
        const startedAt = performance.now();
        if (delivery.invalid) {
          return giveUp(
            delivery,
            'rejected',
            `rejected: ${delivery.invalid.message}`,
            attempt,
            startedAt,
            delivery.invalid,
          );
        }
        if (store === undefined) return invoke(delivery, attempt, startedAt, '', '');
        const claim = `${delivery.group}:${delivery.event.id}`;
        const token = ownerToken();
        let result: ClaimResult | Promise<ClaimResult>;
        try {
          result = store.claim(claim, token, leaseMs);
        } catch (thrown) {
          return failed(delivery, attempt, startedAt, thrown);
        }
        if (!isPromiseLike<ClaimResult>(result))
          return claimed(delivery, attempt, startedAt, claim, token, result);
        return Promise.resolve(result).then(
          (answer) => claimed(delivery, attempt, startedAt, claim, token, answer),
          (thrown: unknown) => failed(delivery, attempt, startedAt, thrown),
        );
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
          maxSettling: (d) => Math.max(settlingBound(concurrency), BusDelivery.prefetchOf(d) ?? 0),
        }),
      );
    });
}

/**
 * Call the idempotency store: undefined when it answered synchronously, else a promise of its
 * answer (a synchronous throw becomes a rejection, as it would have under `await`).
 */
function storeCall(call: () => Promise<void> | void): Promise<void> | undefined {
  let result: Promise<void> | void;
  try {
    result = call();
  } catch (error) {
    return Promise.reject(error);
  }
  return isPromiseLike<void>(result) ? Promise.resolve(result) : undefined;
}

function remember(attempts: Map<string, number>, id: string, attempt: number): void {
  attempts.delete(id);
  attempts.set(id, attempt);
  if (attempts.size > ATTEMPTS_REMEMBERED) attempts.delete(attempts.keys().next().value as string);
}
