import { randomUUID } from 'node:crypto';
import type { ProbeResult } from '../types.ts';
import { retryUntil } from '../wait.ts';
import { metadataVersionName } from './metadata-version.ts';
import {
  apiVersions,
  checkVersions,
  createTopic,
  deleteTopic,
  fetchFrom,
  findCoordinator,
  partitionLeader,
  produce,
} from './requests.ts';
import { KafkaConnection } from './wire.ts';

export function parseBootstrap(brokers: string): Array<{ host: string; port: number }> {
  return brokers
    .split(',')
    .map((entry) => entry.trim().replace(/^[a-z]+:\/\//i, ''))
    .filter(Boolean)
    .map((entry) => {
      const at = entry.lastIndexOf(':');
      return { host: entry.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(entry.slice(at + 1)) };
    });
}

/**
 * A real round trip on the raw protocol: ApiVersions, create a throwaway topic, produce one
 * record with acks=all to its leader, fetch it back, wait for a group coordinator (so the first
 * consumer-group test does not pay for __consumer_offsets), delete the topic.
 */
export async function probeKafka(brokers: string): Promise<ProbeResult> {
  const [first] = parseBootstrap(brokers);
  if (!first || !Number.isInteger(first.port)) throw new Error(`cannot parse Kafka bootstrap "${brokers}"`);
  const connection = await KafkaConnection.open(first.host, first.port);
  try {
    const info = await apiVersions(connection);
    checkVersions(info);
    const topic = `switchyard-health-${randomUUID().slice(0, 8)}`;
    await createTopic(connection, topic);
    try {
      await roundTrip(connection, topic);
      await retryUntil(() => findCoordinator(connection, 'switchyard-health'), {
        timeoutMs: 60_000,
        intervalMs: 250,
      });
    } finally {
      await deleteTopic(connection, topic).catch(() => {});
    }
    return { version: metadataVersionName(info.metadataVersion) };
  } finally {
    connection.close();
  }
}

async function roundTrip(bootstrap: KafkaConnection, topic: string): Promise<void> {
  const leaderAddress = await retryUntil(() => partitionLeader(bootstrap, topic), {
    timeoutMs: 30_000,
    intervalMs: 100,
  });
  const [leader] = parseBootstrap(leaderAddress);
  const connection =
    leaderAddress === bootstrap.address ? bootstrap : await KafkaConnection.open(leader!.host, leader!.port);
  try {
    const value = Buffer.from(`switchyard health ${randomUUID()}`);
    const offset = await retryUntil(() => produce(connection, topic, value), {
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    const values = await retryUntil(() => fetchFrom(connection, topic, offset), {
      timeoutMs: 10_000,
      intervalMs: 100,
    });
    if (!values[0]?.equals(value))
      throw new Error(`fetched ${values[0]?.toString()} instead of ${value.toString()}`);
  } finally {
    if (connection !== bootstrap) connection.close();
  }
}
