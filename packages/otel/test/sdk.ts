// An OpenTelemetry SDK held in memory for the tests: spans in an InMemorySpanExporter, metrics
// collected on demand, and the AsyncLocalStorage context manager (as @opentelemetry/sdk-node installs
// it) so a handler's own spans find the process span.

import { context, type SpanContext } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  type DataPoint,
  type Histogram,
  MeterProvider,
  type MetricData,
  MetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';

class OnDemandReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

let contextManager: AsyncLocalStorageContextManager | undefined;

export function memorySdk() {
  if (contextManager === undefined) {
    contextManager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(contextManager);
  }
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const reader = new OnDemandReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  return {
    tracerProvider,
    meterProvider,
    spans: (): ReadableSpan[] => exporter.getFinishedSpans(),
    /** Every metric collected now, by name. */
    async metrics(): Promise<Map<string, MetricData>> {
      const { resourceMetrics } = await reader.collect();
      const byName = new Map<string, MetricData>();
      for (const scope of resourceMetrics.scopeMetrics)
        for (const metric of scope.metrics) byName.set(metric.descriptor.name, metric);
      return byName;
    },
    async shutdown() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}

/** The data points of `metric` whose attributes include `where`. */
export function points(metric: MetricData | undefined, where: Record<string, string>): DataPoint<unknown>[] {
  if (metric === undefined) return [];
  return (metric.dataPoints as DataPoint<unknown>[]).filter((p) =>
    Object.entries(where).every(([k, v]) => p.attributes[k] === v),
  );
}

/** Sum of a counter's points, or count of a histogram's, matching `where`. */
export function total(metric: MetricData | undefined, where: Record<string, string>): number {
  return points(metric, where).reduce(
    (sum, p) => sum + (typeof p.value === 'number' ? p.value : (p.value as Histogram).count),
    0,
  );
}

export const same = (a: SpanContext | undefined, b: SpanContext | undefined) =>
  a !== undefined && b !== undefined && a.traceId === b.traceId && a.spanId === b.spanId;
