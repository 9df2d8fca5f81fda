import { context, createTraceState, isSpanContextValid, type SpanContext, trace } from '@opentelemetry/api';
import type { TraceContext } from '@switchyard/core';

// W3C Trace Context as the CloudEvents distributed-tracing extension carries it: the `traceparent`
// and `tracestate` attributes, whatever propagator the application configured for HTTP.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** The remote span context a `traceparent` (and `tracestate`) names; undefined if absent or malformed. */
export function parseTraceparent(
  traceparent: string | undefined,
  tracestate: string | undefined,
): SpanContext | undefined {
  if (traceparent === undefined) return undefined;
  const match = TRACEPARENT.exec(traceparent.trim());
  // Version ff is invalid; version 00 has nothing after the flags.
  if (match === null || match[1] === 'ff' || (match[1] === '00' && match[5] !== undefined)) return undefined;
  const context: SpanContext = {
    traceId: match[2]!,
    spanId: match[3]!,
    traceFlags: Number.parseInt(match[4]!, 16),
    isRemote: true,
  };
  if (tracestate) context.traceState = createTraceState(tracestate);
  return isSpanContextValid(context) ? context : undefined;
}

/** The `traceparent` of a span context (version 00). */
export function formatTraceparent(context: SpanContext): string {
  return `00-${context.traceId}-${context.spanId}-${(context.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** The active span's context as event attributes; undefined when there is none (or it is invalid). */
export function activeTraceContext(): TraceContext | undefined {
  const active = trace.getSpanContext(context.active());
  if (active === undefined || !isSpanContextValid(active)) return undefined;
  const tracestate = active.traceState?.serialize();
  return tracestate
    ? { traceparent: formatTraceparent(active), tracestate }
    : { traceparent: formatTraceparent(active) };
}
