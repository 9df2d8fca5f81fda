import { type MeterProvider, metrics, type TracerProvider, trace } from '@opentelemetry/api';
import type { Bus, Instrumentation } from '@switchyard/core';
import { type GaugeOptions, observeGroups } from './gauges.ts';
import { SYSTEMS } from './names.ts';
import { type ConsumerParent, startProcess } from './process.ts';
import { startSend } from './send.ts';
import { SCOPE, Telemetry, VERSION } from './telemetry.ts';
import { activeTraceContext } from './traceparent.ts';

export interface OtelOptions {
  /** Where spans go. Default: the global one (`trace.getTracerProvider()`), which follows a later registration. */
  readonly tracerProvider?: TracerProvider;
  /**
   * Where metrics go. Default: the global one (`metrics.getMeterProvider()`) at the time of the
   * call: register the SDK's MeterProvider before calling instrument().
   */
  readonly meterProvider?: MeterProvider;
  /**
   * The parent of a `process {topic}` span. 'link' (default): a trace of its own, linked to the
   * producer's send span, as the messaging conventions advise. 'producer': the producer's send span,
   * so producer and consumer are one trace (and still linked).
   */
  readonly consumerParent?: ConsumerParent;
  /** `messaging.system`. Default: from the transport (kafka, rabbitmq, aws_sqs, nats, memory). */
  readonly system?: string;
  /** Observable gauges of backlog, in flight, lag age and DLQ depth for these groups (see GaugeOptions). */
  readonly gauges?: GaugeOptions;
}

/** The instrumentation `instrument()` installs, for a bus of `system`, without installing it. */
export function otelInstrumentation(
  options: Omit<OtelOptions, 'gauges' | 'system'> & { readonly system: string },
): Instrumentation {
  const telemetry = new Telemetry(
    options.tracerProvider ?? trace.getTracerProvider(),
    options.meterProvider ?? metrics.getMeterProvider(),
    options.system,
  );
  const parentBy = options.consumerParent ?? 'link';
  return {
    send: (topic, messages) => (telemetry.off ? undefined : startSend(telemetry, topic, messages)),
    process: (delivery) => (telemetry.off ? undefined : startProcess(telemetry, delivery, parentBy)),
    context: () => (telemetry.off ? undefined : activeTraceContext()),
  };
}

/**
 * Trace and measure `bus`: `send {topic}` spans writing the trace context into each event,
 * `process {topic}` spans around handle(), the messaging metrics, and gauges when asked for.
 * Returns the bus. Replaces an instrumentation installed before (and gauges a previous call started).
 */
export function instrument(bus: Bus, options: OtelOptions = {}): Bus {
  const system = options.system ?? SYSTEMS[bus.transport.name] ?? bus.transport.name;
  bus.instrument(otelInstrumentation({ ...options, system }));
  // Instrumented again: the gauges of the first call stop, or each group would be read twice.
  gauges.get(bus)?.();
  gauges.delete(bus);
  if (options.gauges !== undefined) {
    const meterProvider = options.meterProvider ?? metrics.getMeterProvider();
    gauges.set(bus, observeGroups(meterProvider.getMeter(SCOPE, VERSION), bus, system, options.gauges));
  }
  return bus;
}

/** Per bus, what stops the gauges `instrument()` started. */
const gauges = new WeakMap<Bus, () => void>();
