import {
  type Attributes,
  type Counter,
  createNoopMeter,
  type Histogram,
  type Meter,
  type MeterProvider,
  ProxyTracerProvider,
  type Span,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import { ATTR, DURATION_BUCKETS, METRIC } from './names.ts';

export const SCOPE = '@switchyard/otel';
export const VERSION = '0.1.0';

/** What the global tracer provider hands to while no SDK registered one. */
const NO_TRACER_PROVIDER = new ProxyTracerProvider().getDelegate();

/**
 * The tracer, the four messaging instruments and the attribute sets they are recorded with. The
 * sets are made once per topic (and group) and reused: a metric's attributes are the same for every
 * message of a destination, and building them per message would be most of the cost.
 */
export class Telemetry {
  readonly tracer: Tracer;
  readonly meter: Meter;
  readonly system: string;
  readonly sent: Counter;
  readonly consumed: Counter;
  readonly operationDuration: Histogram;
  readonly processDuration: Histogram;
  readonly #sendAttributes = new Map<string, Attributes>();
  readonly #processAttributes = new Map<string, Map<string, Attributes>>();
  /** The global provider, while it may still get an SDK (a proxy); undefined for one given. */
  readonly #proxy: ProxyTracerProvider | undefined;
  /** A meter from the API's no-op provider stays one: the API has no proxy for metrics. */
  readonly #metricsOff: boolean;

  constructor(tracerProvider: TracerProvider, meterProvider: MeterProvider, system: string) {
    this.tracer = tracerProvider.getTracer(SCOPE, VERSION);
    this.meter = meterProvider.getMeter(SCOPE, VERSION);
    this.system = system;
    this.#proxy = tracerProvider instanceof ProxyTracerProvider ? tracerProvider : undefined;
    this.#metricsOff = this.meter === createNoopMeter();
    this.sent = this.meter.createCounter(METRIC.sent, {
      unit: '{message}',
      description: 'Number of messages the producer attempted to send to the broker.',
    });
    this.consumed = this.meter.createCounter(METRIC.consumed, {
      unit: '{message}',
      description: 'Number of messages delivered to the application (handle()).',
    });
    this.operationDuration = this.meter.createHistogram(METRIC.operationDuration, {
      unit: 's',
      description: 'Duration of a send, from the call until the broker confirmed.',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    });
    this.processDuration = this.meter.createHistogram(METRIC.processDuration, {
      unit: 's',
      description: 'Duration of handle() on one delivery, from its first attempt until it was settled.',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    });
  }

  /**
   * True while there is no SDK at all (the API's no-op tracer and meter): then nothing is traced or
   * measured, and the hook steps aside at the cost of this check.
   */
  get off(): boolean {
    return this.#metricsOff && this.#proxy !== undefined && this.#proxy.getDelegate() === NO_TRACER_PROVIDER;
  }

  /** Attributes of a send to `topic` (span start and metrics). */
  sendAttributes(topic: string): Attributes {
    let attributes = this.#sendAttributes.get(topic);
    if (attributes === undefined) {
      attributes = Object.freeze({
        [ATTR.system]: this.system,
        [ATTR.destination]: topic,
        [ATTR.operationType]: 'send',
        [ATTR.operationName]: 'send',
      });
      this.#sendAttributes.set(topic, attributes);
    }
    return attributes;
  }

  /** Attributes of processing a delivery of `topic` for `group` (span start and metrics). */
  processAttributes(topic: string, group: string): Attributes {
    let groups = this.#processAttributes.get(topic);
    if (groups === undefined) {
      groups = new Map();
      this.#processAttributes.set(topic, groups);
    }
    let attributes = groups.get(group);
    if (attributes === undefined) {
      attributes = Object.freeze({
        [ATTR.system]: this.system,
        [ATTR.destination]: topic,
        [ATTR.consumerGroup]: group,
        [ATTR.operationType]: 'process',
        [ATTR.operationName]: 'process',
      });
      groups.set(group, attributes);
    }
    return attributes;
  }
}

/**
 * `error.type`: low cardinality, so the error's class (`HandlerTimeoutError`, `DecodeError`, ...),
 * never its message; `_OTHER` for what is not an Error.
 */
export function errorType(error: unknown): string {
  if (!(error instanceof Error)) return '_OTHER';
  return error.name && error.name !== 'Error' ? error.name : (error.constructor?.name ?? 'Error');
}

/** `attributes` plus `error.type` of `error`. */
export function withError(attributes: Attributes, error: unknown): Attributes {
  return { ...attributes, [ATTR.errorType]: errorType(error) };
}

/** Mark `span` failed with `error`: ERROR status, `error.type`, and the exception as an event. */
export function fail(span: Span, error: unknown): void {
  if (!span.isRecording()) return;
  span.setAttribute(ATTR.errorType, errorType(error));
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
  if (error instanceof Error) span.recordException(error);
}
