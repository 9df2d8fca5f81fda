import { decodeRecordValues, encodeRecordBatch } from './record-batch.ts';
import { ApiKey, type KafkaConnection, KafkaError, Writer } from './wire.ts';

// Fixed, old-but-not-removed request versions: every broker from 3.x through 4.x accepts them
// (Kafka 4.0 dropped Produce < 3, Fetch < 4, CreateTopics < 2, FindCoordinator < 1).
export const VERSIONS = {
  [ApiKey.Produce]: 3,
  [ApiKey.Fetch]: 4,
  [ApiKey.Metadata]: 4,
  [ApiKey.FindCoordinator]: 1,
  [ApiKey.CreateTopics]: 2,
  [ApiKey.DeleteTopics]: 1,
} as const;

export interface ApiVersionsInfo {
  readonly ranges: Map<number, readonly [number, number]>;
  /** Finalized `metadata.version` feature level (KRaft); undefined on ZooKeeper clusters. */
  readonly metadataVersion?: number;
}

export async function apiVersions(connection: KafkaConnection): Promise<ApiVersionsInfo> {
  const body = new Writer().compactString('switchyard-provision').compactString('1').uvarint(0).build();
  const response = await connection.call(ApiKey.ApiVersions, 3, body, true);
  const error = response.int16();
  if (error !== 0) throw new KafkaError('ApiVersions v3 (the broker is older than Kafka 2.4?)', error);
  const ranges = new Map<number, readonly [number, number]>();
  response.compactArray((r) => {
    ranges.set(r.int16(), [r.int16(), r.int16()]);
    r.taggedFields();
  });
  response.int32(); // throttle
  let metadataVersion: number | undefined;
  response.taggedFields((tag, field) => {
    if (tag !== 2) return; // FinalizedFeatures
    field.compactArray((f) => {
      const name = f.compactString();
      const max = f.int16();
      f.int16();
      f.taggedFields();
      if (name === 'metadata.version') metadataVersion = max;
    });
  });
  return { ranges, metadataVersion };
}

export function checkVersions(info: ApiVersionsInfo): void {
  for (const [key, version] of Object.entries(VERSIONS)) {
    const range = info.ranges.get(Number(key));
    if (!range || version < range[0] || version > range[1]) {
      throw new Error(
        `the broker does not accept API ${key} v${version} (supports ${range?.join('..') ?? 'none'})`,
      );
    }
  }
}

export async function createTopic(connection: KafkaConnection, topic: string): Promise<void> {
  const body = new Writer()
    .array([topic], (w, name) => w.string(name).int32(1).int16(1).int32(0).int32(0))
    .int32(10_000)
    .int8(0)
    .build();
  const response = await connection.call(ApiKey.CreateTopics, VERSIONS[ApiKey.CreateTopics], body);
  response.int32();
  const [result] = response.array((r) => ({ name: r.string(), error: r.int16(), message: r.string() }));
  if (result && result.error !== 0 && result.error !== 36) {
    throw new KafkaError(
      `CreateTopics ${topic}${result.message ? ` (${result.message})` : ''}`,
      result.error,
    );
  }
}

export async function deleteTopic(connection: KafkaConnection, topic: string): Promise<void> {
  const body = new Writer()
    .array([topic], (w, name) => w.string(name))
    .int32(10_000)
    .build();
  await connection.call(ApiKey.DeleteTopics, VERSIONS[ApiKey.DeleteTopics], body);
}

/** host:port of the leader of partition 0; throws until the topic has one. */
export async function partitionLeader(connection: KafkaConnection, topic: string): Promise<string> {
  const body = new Writer()
    .array([topic], (w, name) => w.string(name))
    .int8(0)
    .build();
  const response = await connection.call(ApiKey.Metadata, VERSIONS[ApiKey.Metadata], body);
  response.int32();
  const brokers = new Map<number, string>();
  response.array((r) => {
    const id = r.int32();
    const host = r.string();
    const port = r.int32();
    r.string();
    brokers.set(id, `${host}:${port}`);
  });
  response.string();
  response.int32();
  const topics = response.array((r) => ({
    error: r.int16(),
    name: r.string(),
    internal: r.int8(),
    partitions: r.array((p) => {
      const partition = { error: p.int16(), index: p.int32(), leader: p.int32() };
      p.array((x) => x.int32());
      p.array((x) => x.int32());
      return partition;
    }),
  }));
  const found = topics.find((t) => t.name === topic);
  if (!found) throw new Error(`Metadata did not list ${topic}`);
  if (found.error !== 0) throw new KafkaError(`Metadata ${topic}`, found.error);
  const partition = found.partitions.find((p) => p.index === 0);
  if (partition?.error !== 0 || partition.leader < 0) throw new Error(`${topic}-0 has no leader yet`);
  const leader = brokers.get(partition.leader);
  if (!leader) throw new Error(`leader ${partition.leader} of ${topic}-0 is not in the broker list`);
  return leader;
}

/** Produce one record with acks=all; resolves to its offset. */
export async function produce(
  connection: KafkaConnection,
  topic: string,
  value: Uint8Array,
): Promise<bigint> {
  const body = new Writer()
    .string(null)
    .int16(-1)
    .int32(10_000)
    .array([topic], (w, name) =>
      w.string(name).array([0], (p, index) => p.int32(index).bytes(encodeRecordBatch(value))),
    )
    .build();
  const response = await connection.call(ApiKey.Produce, VERSIONS[ApiKey.Produce], body);
  const [result] = response.array((r) => {
    r.string();
    return r.array((p) => ({ index: p.int32(), error: p.int16(), offset: p.int64(), appendTime: p.int64() }));
  });
  const partition = result?.[0];
  if (!partition) throw new Error('Produce response named no partition');
  if (partition.error !== 0) throw new KafkaError(`Produce to ${topic}-0`, partition.error);
  return partition.offset;
}

/** The record values at and after `offset`; throws while there are none yet. */
export async function fetchFrom(
  connection: KafkaConnection,
  topic: string,
  offset: bigint,
): Promise<Buffer[]> {
  const body = new Writer()
    .int32(-1) // replica id: a consumer
    .int32(500)
    .int32(1)
    .int32(1 << 20)
    .int8(0)
    .array([topic], (w, name) =>
      w.string(name).array([0], (p, index) =>
        p
          .int32(index)
          .int64(offset)
          .int32(1 << 20),
      ),
    )
    .build();
  const response = await connection.call(ApiKey.Fetch, VERSIONS[ApiKey.Fetch], body);
  response.int32();
  const [result] = response.array((r) => {
    r.string();
    return r.array((p) => {
      const partition = { index: p.int32(), error: p.int16() };
      p.int64();
      p.int64();
      const abortedCount = p.int32();
      for (let i = 0; i < abortedCount; i++) p.take(16);
      return { ...partition, records: p.bytes() };
    });
  });
  const partition = result?.[0];
  if (!partition) throw new Error('Fetch response named no partition');
  if (partition.error !== 0) throw new KafkaError(`Fetch from ${topic}-0`, partition.error);
  const values = partition.records ? decodeRecordValues(partition.records) : [];
  if (values.length === 0) throw new Error(`Fetch from ${topic}-0 returned no record yet`);
  return values;
}

/** Resolves once a group coordinator is up (the first call creates __consumer_offsets). */
export async function findCoordinator(connection: KafkaConnection, group: string): Promise<void> {
  const body = new Writer().string(group).int8(0).build();
  const response = await connection.call(ApiKey.FindCoordinator, VERSIONS[ApiKey.FindCoordinator], body);
  response.int32();
  const error = response.int16();
  if (error !== 0) throw new KafkaError(`FindCoordinator ${group}`, error);
}
