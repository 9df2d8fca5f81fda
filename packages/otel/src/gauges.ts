import type { BatchObservableCallback, Meter } from '@opentelemetry/api';
import type { Bus, Inspection } from '@switchyard/core';
import { ATTR, METRIC } from './names.ts';

/** The figures a gauge reading needs: what `bus.inspect()` returns, each null where unknown. */
export type GaugeReading = Partial<Pick<Inspection, 'backlog' | 'inFlight' | 'oldestAgeMs' | 'deadLetters'>>;

export interface GaugeOptions {
  /**
   * The groups observed at each collection; `deadLetterTopic` as handle() was given it
   * (`deadLetter: { topic }`), default `<topic>.<group>.dlq`.
   */
  readonly groups: readonly {
    readonly topic: string;
    readonly group: string;
    readonly deadLetterTopic?: string;
  }[];
  /**
   * Reads one group's figures. Default: `bus.inspect(topic, { group })`, which asks the broker
   * (and keeps the sliding window of its status); give your own to read them elsewhere.
   */
  readonly read?: (topic: string, group: string) => Promise<GaugeReading>;
}

/**
 * Observable gauges of backlog, in flight, lag age and DLQ depth per group, read when the SDK
 * collects (so never more often than the reader's interval). Stops observing once the bus closes.
 * A group whose reading fails, or a figure the broker cannot tell (null), is left out of that
 * collection rather than reported as 0.
 */
export function observeGroups(meter: Meter, bus: Bus, system: string, options: GaugeOptions): () => void {
  const backlog = meter.createObservableGauge(METRIC.backlog, {
    unit: '{message}',
    description: 'Messages published and not yet settled by the group (waiting and in flight).',
  });
  const inFlight = meter.createObservableGauge(METRIC.inFlight, {
    unit: '{message}',
    description: 'Messages handed to a member of the group and not yet settled.',
  });
  const lagAge = meter.createObservableGauge(METRIC.lagAge, {
    unit: 's',
    description: 'Age of the oldest message the group has not settled, where the broker knows it.',
  });
  const dlqDepth = meter.createObservableGauge(METRIC.dlqDepth, {
    unit: '{message}',
    description: "Dead letters kept for the group (its dead-letter topic's backlog).",
  });
  const observables = [backlog, inFlight, lagAge, dlqDepth];
  const callback: BatchObservableCallback = async (observer) => {
    if (bus.closing) {
      stop();
      return;
    }
    await Promise.all(
      options.groups.map(async (entry) => {
        const { topic, group } = entry;
        let reading: GaugeReading;
        try {
          reading = await (options.read ? options.read(topic, group) : bus.inspect(topic, entry));
        } catch {
          return;
        }
        const attributes = {
          [ATTR.system]: system,
          [ATTR.destination]: topic,
          [ATTR.consumerGroup]: group,
        };
        if (reading.backlog != null) observer.observe(backlog, reading.backlog, attributes);
        if (reading.inFlight != null) observer.observe(inFlight, reading.inFlight, attributes);
        if (reading.oldestAgeMs != null) observer.observe(lagAge, reading.oldestAgeMs / 1_000, attributes);
        if (reading.deadLetters != null) observer.observe(dlqDepth, reading.deadLetters, attributes);
      }),
    );
  };
  const stop = () => meter.removeBatchObservableCallback(callback, observables);
  meter.addBatchObservableCallback(callback, observables);
  return stop;
}
