// The brokers the bench knows, each loaded only when asked for (an absent client fails that broker alone).
import type { Pair } from './driver.ts';

export const BROKERS = ['kafka', 'rabbitmq', 'sqs', 'nats'] as const;
export type Broker = (typeof BROKERS)[number];

export async function loadPair(broker: Broker): Promise<Pair> {
  switch (broker) {
    case 'kafka':
      return (await import('./kafka.ts')).pair;
    case 'rabbitmq':
      return (await import('./rabbitmq.ts')).pair;
    case 'sqs':
      return (await import('./sqs.ts')).pair;
    case 'nats':
      return (await import('./nats.ts')).pair;
  }
}
