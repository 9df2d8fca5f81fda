import { DEFAULT_KAFKA_VERSION } from './kafka/launch.ts';
import { BROKER_NAMES, type BrokerName, type SqsEmulator } from './types.ts';

/** BROKERS=kafka,nats narrows the set (a developer running one transport's tests). */
export function brokersFromEnv(value = process.env.BROKERS): BrokerName[] {
  if (!value?.trim()) return [...BROKER_NAMES];
  const names = value.split(',').map((name) => name.trim().toLowerCase());
  const unknown = names.filter((name) => !(BROKER_NAMES as readonly string[]).includes(name));
  if (unknown.length > 0)
    throw new Error(
      `BROKERS names unknown broker(s) ${unknown.join(', ')}; known: ${BROKER_NAMES.join(', ')}`,
    );
  return names as BrokerName[];
}

export function sqsEmulatorFromEnv(value = process.env.SQS_EMULATOR): SqsEmulator {
  if (!value || value === 'fauxqs') return 'fauxqs';
  if (value === 'elasticmq') return 'elasticmq';
  throw new Error(`SQS_EMULATOR=${value}: expected fauxqs or elasticmq`);
}

export function kafkaVersionFromEnv(value = process.env.KAFKA_VERSION): string {
  return value?.trim() || DEFAULT_KAFKA_VERSION;
}

export const requireBrokersFromEnv = (value = process.env.REQUIRE_BROKERS): boolean =>
  value === '1' || value === 'true';
