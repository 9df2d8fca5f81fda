import type { BrokerName } from '../provision/types.ts';
import { sweepKafka } from './kafka.ts';
import { sweepNats } from './nats.ts';
import { sweepRabbitMq } from './rabbitmq.ts';
import { sweepSqs } from './sqs.ts';
import type { SweepCount, SweepOptions } from './types.ts';

export { isLeftoverTopic } from './prefixes.ts';
export type { SweepCount, SweepOptions } from './types.ts';

const SWEEPS: Record<BrokerName, (url: string, options?: SweepOptions) => Promise<SweepCount>> = {
  kafka: sweepKafka,
  rabbitmq: sweepRabbitMq,
  sqs: sweepSqs,
  nats: sweepNats,
};

/**
 * Remove what tests, demos, benchmarks and probes left on one broker (names as in prefixes.ts);
 * `url` in the form of the broker's env var. Run it when no tests run against the broker: it
 * cannot tell a leftover from a name a running test is using.
 */
export function sweepBroker(name: BrokerName, url: string, options: SweepOptions = {}): Promise<SweepCount> {
  return SWEEPS[name](url, options);
}

export function describeCount(count: SweepCount): string {
  return `${count.names} ${count.what}${count.extraWhat ? `, ${count.extra ?? 0} ${count.extraWhat}` : ''}`;
}
