import {
  type Context,
  context,
  isSpanContextValid,
  type Link,
  type Span,
  SpanKind,
  trace,
} from '@opentelemetry/api';
import type { Sending, WireMessage } from '@switchyard/core';
import { ATTR } from './names.ts';
import { fail, type Telemetry, withError } from './telemetry.ts';
import { formatTraceparent, parseTraceparent } from './traceparent.ts';

/**
 * `send {topic}`, a PRODUCER span around one publish call (one message or a batch), whose context
 * every message carries as its creation context (`traceparent`/`tracestate`). A message that came
 * with a traceparent of its own (a follow-up carrying its cause's, a replay) keeps the relation as a
 * link. A dead letter's send also links to the process span that failed, whose child it is.
 */
export function startSend(telemetry: Telemetry, topic: string, messages: readonly WireMessage[]): Sending {
  const startedAt = performance.now();
  const parent = context.active();
  const span = telemetry.tracer.startSpan(
    `send ${topic}`,
    { kind: SpanKind.PRODUCER, attributes: telemetry.sendAttributes(topic) },
    parent,
  );
  const sent = isSpanContextValid(span.spanContext()) ? carrying(span, parent, messages) : undefined;
  return {
    messages: sent,
    end(error?: unknown) {
      const attributes = telemetry.sendAttributes(topic);
      const seconds = (performance.now() - startedAt) / 1_000;
      if (error === undefined) {
        telemetry.sent.add(messages.length, attributes);
        telemetry.operationDuration.record(seconds, attributes);
      } else {
        const failed = withError(attributes, error);
        telemetry.sent.add(messages.length, failed);
        telemetry.operationDuration.record(seconds, failed);
        fail(span, error);
      }
      span.end();
    },
  };
}

/** Describe the messages on the span and write its context into each; the messages to send. */
function carrying(span: Span, parent: Context, messages: readonly WireMessage[]): WireMessage[] {
  const spanContext = span.spanContext();
  const traceparent = formatTraceparent(spanContext);
  const tracestate = spanContext.traceState?.serialize();
  if (span.isRecording()) {
    if (messages.length === 1) {
      const { headers, body } = messages[0]!;
      if (headers.id !== undefined) span.setAttribute(ATTR.messageId, headers.id);
      if (headers.correlationid !== undefined) span.setAttribute(ATTR.conversationId, headers.correlationid);
      span.setAttribute(ATTR.bodySize, body.byteLength);
    } else span.setAttribute(ATTR.batchCount, messages.length);
    const links: Link[] = [];
    for (const { headers } of messages) {
      const given = parseTraceparent(headers.traceparent, headers.tracestate);
      if (given !== undefined) links.push({ context: given });
    }
    if (messages[0]?.headers.deadletterreason !== undefined) {
      const failed = trace.getSpanContext(parent);
      if (failed !== undefined)
        links.push({ context: failed, attributes: { [ATTR.linkKind]: 'dead-letter' } });
    }
    if (links.length > 0) span.addLinks(links);
  }
  return messages.map((message) => {
    const { tracestate: _old, ...headers } = message.headers;
    return {
      ...message,
      headers: tracestate ? { ...headers, traceparent, tracestate } : { ...headers, traceparent },
    };
  });
}
