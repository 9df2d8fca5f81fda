// The instrumentation hook (issue #23): what a bus tells tracing and metrics (@switchyard/otel) about
// every send and every delivery handle() takes. Core knows no tracing API: an instrumentation is a
// plain object of callbacks, installed with `bus.instrument(...)`. With none installed, the bus and
// handle() pay one property read per publish and per attempt.
import type { Delivery } from '../delivery.ts';
import type { SwitchyardEvent } from '../event.ts';
import type { Outcome } from '../policies/outcome.ts';
import type { WireMessage } from '../transport.ts';

export interface Instrumentation {
  /**
   * Messages are about to go to the broker: publish(), publishBatch(), a handler's ctx.publish, a
   * dead letter, a replay or redrive (publishWire). Called synchronously in the caller's context
   * (so inside a handler, inside that delivery's `Processing.attempt`). Return undefined to leave
   * the send alone.
   */
  send?(topic: string, messages: readonly WireMessage[]): Sending | undefined;
  /**
   * handle() took `delivery` (a valid event or an invalid one it will reject) for its first attempt
   * in this process. Return undefined to leave it alone.
   */
  process?(delivery: Delivery): Processing | undefined;
  /**
   * The trace context active now, as the event attributes that carry it, for a message written
   * somewhere other than the broker: a handler's ctx.publish into a transactional outbox, sent by a
   * relay later (whose send then links to it, as to any traceparent a message comes with). Called
   * in the caller's context, so inside a handler it names the delivery's process span. Undefined:
   * keep what the message carries.
   */
  context?(): TraceContext | undefined;
}

/** W3C trace context as the CloudEvents distributed-tracing extension carries it. */
export interface TraceContext {
  readonly traceparent: string;
  readonly tracestate?: string | undefined;
}

export interface Sending {
  /**
   * The messages to send instead: as many, in the same order (e.g. with `traceparent` and
   * `tracestate` headers written, the CloudEvents distributed-tracing extension). publish() then
   * returns events carrying those headers. Undefined: send them as given.
   */
  readonly messages?: readonly WireMessage[] | undefined;
  /** The broker confirmed the send (no error) or it failed (also before reaching the broker). */
  end(error?: unknown): void;
}

export interface Processing {
  /**
   * Run attempt number `attempt` by calling `run(delivery, attempt)` and returning what it returns.
   * The whole attempt runs inside this call or in promise continuations made inside it: the
   * idempotency claim, the handler, its follow-up publishes and, when it fails for good, the
   * dead-letter publish. So an AsyncLocalStorage context entered here (OpenTelemetry's
   * `context.with`) is the active one for all of them.
   */
  attempt<R>(attempt: number, run: (delivery: Delivery, attempt: number) => R): R;
  /**
   * What came of an attempt, as handle() emits it. The last call for a delivery is the one whose
   * kind is not `retrying`, or a `retrying` that gave the delivery back to the broker
   * (`outcome.delivery.settled`); an in-process retry is followed by another `attempt`.
   */
  outcome(outcome: Outcome): void;
}

/**
 * Publish through `send` with the instrumentation told: it may replace the messages (and so the
 * trace headers of `events`, the events publishBatch() returns) and learns how the send ended.
 */
export function instrumentedSend(
  instrumentation: Instrumentation,
  topic: string,
  messages: readonly WireMessage[],
  events: SwitchyardEvent[] | undefined,
  send: (messages: readonly WireMessage[], topic: string) => Promise<void>,
): Promise<void> {
  const sending = instrumentation.send?.(topic, messages);
  if (sending === undefined) return send(messages, topic);
  const sent = sending.messages ?? messages;
  if (events !== undefined && sent !== messages) {
    for (let i = 0; i < events.length; i++) {
      const { traceparent, tracestate } = sent[i]!.headers;
      const event = events[i]!;
      if (traceparent !== event.traceparent || tracestate !== event.tracestate)
        events[i] = { ...event, traceparent, tracestate };
    }
  }
  let publishing: Promise<void>;
  try {
    publishing = send(sent, topic);
  } catch (error) {
    publishing = Promise.reject(error);
  }
  publishing.then(
    () => sending.end(),
    (error: unknown) => sending.end(error),
  );
  return publishing;
}

/**
 * handle()'s side of the hook: one Processing per delivery between its first attempt and its last
 * outcome. Holds nothing, and costs a size check per outcome, when no delivery is instrumented.
 */
export class Processings {
  readonly #open = new Map<Delivery, Processing>();

  /** Run an attempt at `delivery` through its Processing (made at its first attempt). */
  run<D extends Delivery, R>(
    instrumentation: Instrumentation,
    delivery: D,
    attempt: number,
    run: (delivery: D, attempt: number) => R,
  ): R {
    let processing = this.#open.size === 0 ? undefined : this.#open.get(delivery);
    if (processing === undefined) {
      processing = instrumentation.process?.(delivery);
      if (processing === undefined) return run(delivery, attempt);
      this.#open.set(delivery, processing);
    }
    return processing.attempt(attempt, run as (delivery: Delivery, attempt: number) => R);
  }

  /** Tell the delivery's Processing what came of an attempt; forget it after its last outcome. */
  outcome<O extends Outcome>(outcome: O): O {
    if (this.#open.size === 0) return outcome;
    const processing = this.#open.get(outcome.delivery);
    if (processing === undefined) return outcome;
    if (outcome.kind !== 'retrying' || outcome.delivery.settled) this.#open.delete(outcome.delivery);
    processing.outcome(outcome);
    return outcome;
  }
}
