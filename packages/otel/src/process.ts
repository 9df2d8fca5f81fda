import {
  type Attributes,
  type Context,
  context,
  isSpanContextValid,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  trace,
} from '@opentelemetry/api';
import type { Delivery, Outcome, Processing } from '@switchyard/core';
import { ATTR, EVENT } from './names.ts';
import { fail, type Telemetry, withError } from './telemetry.ts';
import { parseTraceparent } from './traceparent.ts';

/** Where a process span goes: under the producer's send span, or a trace of its own with a link to it. */
export type ConsumerParent = 'link' | 'producer';

/**
 * `process {topic}`, a CONSUMER span around handle() on one delivery: from its first attempt until
 * it was settled, each attempt an event, each failed attempt an exception event. It always links to
 * the message's creation context; with consumerParent 'producer' that context is its parent too.
 */
export function startProcess(telemetry: Telemetry, delivery: Delivery, parentBy: ConsumerParent): Processing {
  const startedAt = performance.now();
  const { topic, group, message } = delivery;
  const attributes = telemetry.processAttributes(topic, group);
  const headers = message.headers;
  // The headers, not the event: an invalid delivery (rejected) has the producer's context too.
  const producer =
    headers.traceparent === undefined ? undefined : parseTraceparent(headers.traceparent, headers.tracestate);
  const parent =
    producer !== undefined && parentBy === 'producer'
      ? trace.setSpanContext(ROOT_CONTEXT, producer)
      : ROOT_CONTEXT;
  const span = telemetry.tracer.startSpan(
    `process ${topic}`,
    {
      kind: SpanKind.CONSUMER,
      // Given at the start, so a sampler sees them too.
      attributes: {
        ...attributes,
        ...(headers.id === undefined ? {} : { [ATTR.messageId]: headers.id }),
        ...(headers.correlationid === undefined ? {} : { [ATTR.conversationId]: headers.correlationid }),
        [ATTR.bodySize]: message.body.byteLength,
      },
      links: producer === undefined ? [] : [{ context: producer }],
    },
    parent,
  );
  telemetry.consumed.add(1, attributes);
  // No SDK (or one that neither records nor propagates): the handler has no context to run in.
  const active =
    span.isRecording() || isSpanContextValid(span.spanContext()) ? trace.setSpan(parent, span) : undefined;
  return new SpanProcessing(telemetry, delivery, span, active, attributes, startedAt);
}

class SpanProcessing implements Processing {
  readonly #telemetry: Telemetry;
  readonly #delivery: Delivery;
  readonly #span: Span;
  readonly #context: Context | undefined;
  readonly #attributes: Attributes;
  readonly #startedAt: number;

  constructor(
    telemetry: Telemetry,
    delivery: Delivery,
    span: Span,
    active: Context | undefined,
    attributes: Attributes,
    startedAt: number,
  ) {
    this.#telemetry = telemetry;
    this.#delivery = delivery;
    this.#span = span;
    this.#context = active;
    this.#attributes = attributes;
    this.#startedAt = startedAt;
  }

  attempt<R>(attempt: number, run: (delivery: Delivery, attempt: number) => R): R {
    if (this.#context === undefined) return run(this.#delivery, attempt);
    if (this.#span.isRecording()) this.#span.addEvent(EVENT.attempt, { [ATTR.attempt]: attempt });
    return context.with(this.#context, run, undefined, this.#delivery, attempt);
  }

  outcome(outcome: Outcome): void {
    const span = this.#span;
    const recording = span.isRecording();
    if (outcome.kind === 'retrying' && !outcome.delivery.settled) {
      // An in-process retry: this span goes on with the next attempt.
      if (recording) {
        if (outcome.error) span.recordException(outcome.error);
        span.addEvent(EVENT.retry, {
          [ATTR.attempt]: outcome.attempt,
          [ATTR.retryDelay]: outcome.delayMs ?? 0,
        });
      }
      return;
    }
    const failed =
      outcome.kind === 'deadLettered' || outcome.kind === 'rejected' || outcome.kind === 'retrying';
    if (recording) {
      span.setAttribute(ATTR.outcome, outcome.kind);
      if (outcome.deadLetterTopic !== undefined)
        span.setAttribute(ATTR.deadLetterTopic, outcome.deadLetterTopic);
      if (failed) fail(span, outcome.error ?? new Error(outcome.kind));
    }
    span.end();
    const seconds = (performance.now() - this.#startedAt) / 1_000;
    this.#telemetry.processDuration.record(
      seconds,
      failed ? withError(this.#attributes, outcome.error) : this.#attributes,
    );
  }
}
