import { defer, type OperatorFunction } from 'rxjs';
import { BusDelivery, type Delivery, type EventDelivery } from '../delivery.ts';
import { UnsupportedOptionError } from '../errors.ts';
import type { EventInput, SwitchyardEvent } from '../event.ts';
import { storeCalls } from '../idempotency/batched.ts';
import { isTransactional, type TransactionalIdempotencyStore } from '../idempotency/store.ts';
import { MAX_TIMER_MS } from '../kit/bounded.ts';
import { SETTLED_NOW } from '../kit/settle-once.ts';
import { Processings } from '../ops/instrumentation.ts';
import { nonNegative, positiveInteger } from '../option-checks.ts';
import { isPromiseLike } from '../promise.ts';
import { type DeadLetterOptions, deadLetter } from './dead-letter.ts';
import {
  completionTtl,
  type IdempotencyOptions,
  type IdempotentResult,
  idempotentStep,
  type Lease,
  transactionalStep,
} from './idempotent.ts';
import { keyOrdered, type Step, settlingBound } from './key-ordered.ts';
import type { Outcome, OutcomeKind } from './outcome.ts';
import { type RetryOptions, retryDecision } from './retry.ts';
import { timeoutStep } from './with-timeout.ts';

export interface HandlerContext<T = unknown> {
  readonly delivery: EventDelivery<T>;
  /** 1-based attempt at this event, counting broker redeliveries and in-process retries. */
  readonly attempt: number;
  /**
   * Aborted when the attempt is over before the handler: its timeout passed (HandlerTimeoutError)
   * or its idempotency claim was lost (LeaseLostError).
   */
  readonly signal: AbortSignal;
  /**
   * Publish a follow-up: causationid = this event's id, correlationid and traceparent carried
   * forward. With `idempotency.transactional` and a store that has `publishInTransaction`, the
   * event is written in the attempt's transaction (sent only if it commits) instead.
   */
  publish<U>(topic: string, input: EventInput<U>): Promise<SwitchyardEvent<U>>;
  /**
   * With `idempotency.transactional`: the attempt's transaction, as the store hands it out (its
   * package exports a typed accessor). Writes through it commit with the event's done mark.
   * Otherwise undefined.
   */
  readonly tx: unknown;
}

export type Handler<T> = (event: SwitchyardEvent<T>, context: HandlerContext<T>) => unknown;

export interface HandleOptions {
  /** Handlers running at once. Events with the same key still run one at a time, in order. Default: 1. */
  readonly concurrency?: number;
  /**
   * An attempt running longer fails with HandlerTimeoutError. Default: 30 000 ms; 0, Infinity or
   * more than 2^31 - 1 ms (which no timer keeps) for none.
   */
  readonly timeoutMs?: number;
  /** Retry policy, see RetryOptions. Default: 3 attempts, exponential backoff from 100 ms. */
  readonly retry?: RetryOptions;
  /** Where events go after the last attempt, or at once when rejected or non-retryable. */
  readonly deadLetter?: DeadLetterOptions;
  /** Skip events this group has handled already (see IdempotencyOptions). Off by default. */
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
  tx: unknown = undefined;
  /**
   * When the attempt started (performance.now()), while the handler is called in the same
   * synchronous run: the timeout counts from it rather than read the clock again (#24).
   */
  #startedAt: number | undefined = undefined;
  #controller: AbortController | undefined = undefined;
  #signal: AbortSignal | undefined = undefined;
  #reason: Error | undefined = undefined;
  #publish: HandlerContext<T>['publish'] | undefined = undefined;
  #lease: Lease | undefined = undefined;
  /** In transactional mode: the store whose transaction ctx.publish writes into. */
  readonly #outbox: TransactionalIdempotencyStore | undefined;

  constructor(delivery: EventDelivery<T>, attempt: number, outbox?: TransactionalIdempotencyStore) {
    this.delivery = delivery;
    this.attempt = attempt;
    this.#outbox = outbox;
  }

  get signal(): AbortSignal {
    if (this.#signal === undefined) {
      this.#controller = new AbortController();
      if (this.#reason !== undefined) this.#controller.abort(this.#reason);
      // Also aborted when close() gives the delivery back at its deadline; made only for a handler
      // that reads its signal.
      const givenBack = this.delivery.givenBack;
      this.#signal =
        givenBack === undefined
          ? this.#controller.signal
          : AbortSignal.any([this.#controller.signal, givenBack]);
    }
    return this.#signal;
  }

  get publish(): HandlerContext<T>['publish'] {
    this.#publish ??= (topic, input) => {
      const event = this.delivery.event;
      const followUp = {
        ...input,
        causationid: input.causationid ?? event.id,
        correlationid: input.correlationid ?? event.correlationid,
        traceparent: input.traceparent ?? event.traceparent,
      };
      const outbox = this.#outbox;
      if (outbox?.publishInTransaction === undefined) return this.delivery.origin.publish(topic, followUp);
      const tx = this.tx;
      // Not sent now, so no send span is made here: the event carries the span active in the
      // handler (the delivery's process span when traced), which the relay's send links to.
      const active =
        input.traceparent === undefined ? this.delivery.origin.instrumentation?.context?.() : undefined;
      const written = active === undefined ? followUp : { ...followUp, ...active };
      return this.delivery.origin.buildEvent(written).then(async (built) => {
        await outbox.publishInTransaction!(tx, topic, built as SwitchyardEvent);
        return built;
      });
    };
    return this.#publish;
  }

  /** The attempt runs under `lease`: a lost lease aborts its signal, a timeout holds the claim. */
  static holding(context: Context<unknown>, lease: Lease): void {
    context.#lease = lease;
    lease.onLost(abortContext, context);
  }

  /** The attempt's start while the handler is called in the same run; undefined (read the clock) after. */
  static startingAt(context: Context<unknown>, at: number | undefined): void {
    context.#startedAt = at;
  }

  static startedAt(context: Context<unknown>): number | undefined {
    return context.#startedAt;
  }

  static leaseOf(context: Context<unknown>): Lease | undefined {
    return context.#lease;
  }

  static abort(context: Context<unknown>, reason: Error): void {
    if (context.#reason !== undefined) return;
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
  const concurrency = positiveInteger('concurrency', options.concurrency ?? 1);
  const timeoutMs = nonNegative('timeoutMs', options.timeoutMs ?? 30_000);
  if (options.retry?.maxAttempts !== undefined)
    positiveInteger('retry.maxAttempts', options.retry.maxAttempts);
  const leaseMs = options.idempotency?.leaseMs ?? Math.max(60_000, 2 * timeoutMs);
  const keyOf = options.key ?? ((event: SwitchyardEvent) => event.partitionkey);
  const idempotency = options.idempotency;
  const ttlMs = idempotency ? completionTtl(idempotency) : 0;
  let inTransaction: TransactionalIdempotencyStore | undefined;
  if (idempotency?.transactional === true) {
    if (!isTransactional(idempotency.store))
      throw new UnsupportedOptionError(
        'idempotency.transactional needs a store with transaction() (a TransactionalIdempotencyStore, e.g. pgInbox)',
      );
    inTransaction = idempotency.store;
  }

  return (source) =>
    defer(() => {
      const attemptsMade = new Map<string, number>();
      // Deliveries of an instrumented bus (bus.instrument) run and end through their Processing.
      const processings = new Processings();

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

      /** The outcome as the broker confirmed it: the bus may have given the delivery back first (drain deadline), then it was not acked. */
      const confirmed = (o: Outcome<T>): Outcome<T> =>
        processings.outcome(
          o.kind !== 'released' && o.kind !== 'retrying' && o.delivery.settledAs === 'nack'
            ? { ...o, kind: 'released' }
            : o,
        );

      // Settling can fail (connection lost): the broker then redelivers, which is what release means.
      const settle = (settling: Promise<void>, o: Outcome<T>): Promise<Outcome<T>> =>
        settling.then(
          () => confirmed(o),
          (error: unknown) => processings.outcome({ ...o, kind: 'released', error: error as Error }),
        );

      /**
       * The attempt is over; its last outcome follows when the broker confirmed the settle, at once
       * when the transport settled before ack() or nack() returned (SETTLED_NOW: memory://).
       */
      const settled = (settling: Promise<void>, o: Outcome<T>): Step<Outcome<T>> =>
        settling === SETTLED_NOW
          ? { outcomes: [confirmed(o)], next: DONE }
          : { outcomes: NO_OUTCOMES, next: DONE, settling: settle(settling, o) };

      const ack = (delivery: Delivery<T>, kind: OutcomeKind, attempt: number, startedAt: number) =>
        settled(delivery.ack(), outcome(kind, delivery, attempt, startedAt));

      const comeBackLater = (delivery: Delivery<T>, attempt: number, startedAt: number, error?: Error) =>
        settled(
          delivery.nack({ delayMs: SETTLE_RETRY_MS }),
          outcome('retrying', delivery, attempt, startedAt, {
            ...(error ? { error } : {}),
            delayMs: SETTLE_RETRY_MS,
          }),
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
          delivery.ack(),
          outcome(kind, delivery, attempt, startedAt, { error, deadLetterTopic: topic }),
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
          return {
            outcomes: [processings.outcome(retrying)],
            next: { kind: 'again', delayMs: decision.delayMs },
          };
        const id = delivery.event.id;
        remember(attemptsMade, id, attempt);
        // At most what a timer keeps: past it Node would end the hold after 1 ms.
        const holdMs = Math.min(decision.delayMs + (options.retry?.holdGraceMs ?? 10_000), MAX_TIMER_MS);
        return {
          outcomes: NO_OUTCOMES,
          next: { kind: 'park', id, holdMs },
          settling: settle(delivery.nack({ delayMs: decision.delayMs }), retrying),
        };
      };

      /** The handler under the timeout; as the idempotency step's work, aborted too when the claim is lost. */
      const invoke = (context: Context<T>) =>
        timeoutStep(
          callHandler,
          context,
          timeoutMs,
          onTimeout,
          Context.startedAt(context as Context<unknown>),
        );
      const callHandler = (context: Context<T>) => handler(context.delivery.event, context);
      const invokeClaimed = (lease: Lease, context: Context<T>) => {
        Context.holding(context as Context<unknown>, lease);
        return invoke(context);
      };

      /** What the idempotency step came to → the outcome. */
      const decided = (
        delivery: EventDelivery<T>,
        attempt: number,
        startedAt: number,
        result: IdempotentResult<unknown>,
      ): Result<T> => {
        switch (result.status) {
          case 'done':
            return ack(delivery, 'acked', attempt, startedAt);
          case 'duplicate':
            return ack(delivery, 'duplicate', attempt, startedAt);
          case 'busy':
            return comeBackLater(delivery, attempt, startedAt);
          case 'lost':
            // Not a failure of the event: another member has it, or will. Not counted against it.
            return comeBackLater(delivery, attempt, startedAt, result.error);
        }
      };

      // A store that answers synchronously is called that way: no promise per call.
      const calls = idempotency && !inTransaction ? storeCalls(idempotency.store) : undefined;

      /** One attempt: idempotent → timeout → handler, each step synchronous when it can be. */
      const attemptAt = (delivery: EventDelivery<T>, attempt: number, startedAt: number): Result<T> => {
        let result: unknown;
        try {
          if (inTransaction !== undefined) {
            const context = new Context(delivery, attempt, inTransaction);
            result = transactionalStep(
              inTransaction,
              claimKey(delivery),
              ttlMs,
              (tx) => {
                context.tx = tx;
                return invoke(context);
              },
              context.signal,
            );
          } else if (calls !== undefined) {
            const context = new Context(delivery, attempt);
            Context.startingAt(context as Context<unknown>, startedAt);
            result = idempotentStep(calls, claimKey(delivery), leaseMs, ttlMs, invokeClaimed, context);
            // A store that answers later calls the handler later: its timeout reads the clock then.
            Context.startingAt(context as Context<unknown>, undefined);
          } else {
            const context = new Context(delivery, attempt);
            Context.startingAt(context as Context<unknown>, startedAt);
            result = invoke(context);
            if (!isPromiseLike(result)) return ack(delivery, 'acked', attempt, startedAt);
            return (result as Promise<unknown>).then(
              () => ack(delivery, 'acked', attempt, startedAt),
              (thrown: unknown) => failed(delivery, attempt, startedAt, thrown),
            );
          }
        } catch (thrown) {
          return failed(delivery, attempt, startedAt, thrown);
        }
        if (!isPromiseLike<IdempotentResult<unknown>>(result))
          return decided(delivery, attempt, startedAt, result as IdempotentResult<unknown>);
        return (result as Promise<IdempotentResult<unknown>>).then(
          (answer) => decided(delivery, attempt, startedAt, answer),
          (thrown: unknown) => failed(delivery, attempt, startedAt, thrown),
        );
      };

      const run = (delivery: Delivery<T>, attempt: number): Result<T> => {
        const instrumentation = delivery.origin.instrumentation;
        if (instrumentation !== undefined)
          return processings.run(instrumentation, delivery, attempt, runAttempt);
        return runAttempt(delivery, attempt);
      };

      const runAttempt = (delivery: Delivery<T>, attempt: number): Result<T> => {
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
        return attemptAt(delivery, attempt, startedAt);
      };

      return source.pipe(
        keyOrdered<Delivery<T>, Outcome<T>>({
          concurrency,
          keyOf: (d) => (d.event ? keyOf(d.event) : undefined),
          idOf: (d) => d.event?.id,
          // Most subscriptions never retry through the broker: no lookup (and no hash of the id) then.
          firstAttempt: (d) =>
            attemptsMade.size === 0 || !d.event
              ? d.attempt
              : Math.max(d.attempt, (attemptsMade.get(d.event.id) ?? 0) + 1),
          run,
          shouldRelease: (d) => d.origin.closing,
          release: (d) => settle(d.nack(), outcome('released', d, d.attempt, performance.now())),
          maxSettling: (d) => Math.max(settlingBound(concurrency), BusDelivery.prefetchOf(d) ?? 0),
        }),
      );
    });
}

/**
 * The attempt timed out: abort its signal. The handler may run on (not every handler heeds the
 * signal): its claim is held until it stops, so a retry finds the id busy rather than running
 * beside it. Whatever it ended with, the retry runs it again.
 */
const onTimeout = (error: Error, pending: PromiseLike<unknown>, context: Context<unknown>): void => {
  Context.abort(context, error);
  Context.leaseOf(context)?.holdUntil(pending);
};

const abortContext = (error: Error, context: Context<unknown>): void => Context.abort(context, error);

/** The idempotency key of a delivery: per group, so each group handles every event once. */
const claimKey = (delivery: EventDelivery): string => `${delivery.group}:${delivery.event.id}`;

function remember(attempts: Map<string, number>, id: string, attempt: number): void {
  attempts.delete(id);
  attempts.set(id, attempt);
  if (attempts.size > ATTEMPTS_REMEMBERED) attempts.delete(attempts.keys().next().value as string);
}
