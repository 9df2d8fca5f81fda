// @switchyard/otel: OpenTelemetry traces and metrics for a Switchyard bus, through core's
// instrumentation hook (bus.instrument). Only @opentelemetry/api is needed (a peer dependency).
export type { GaugeOptions, GaugeReading } from './gauges.ts';
export { instrument, type OtelOptions, otelInstrumentation } from './instrument.ts';
export { ATTR, DURATION_BUCKETS, EVENT, METRIC, SYSTEMS } from './names.ts';
export type { ConsumerParent } from './process.ts';
export { activeTraceContext, formatTraceparent, parseTraceparent } from './traceparent.ts';
