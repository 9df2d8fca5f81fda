import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { isLeftoverTopic, unescapeName } from './prefixes.ts';
import type { SweepCount, SweepOptions } from './types.ts';

// The transport's default stream prefix, the raw side of the benchmark's, and the probe's streams.
const STREAM_PREFIXES = ['SWITCHYARD_', 'RAW_'];

function isLeftoverStream(name: string, match: (topic: string) => boolean): boolean {
  if (match === isLeftoverTopic && name.startsWith('SWITCHYARD_HEALTH_')) return true;
  const prefix = STREAM_PREFIXES.find((p) => name.startsWith(p));
  return prefix !== undefined && match(unescapeName(name.slice(prefix.length)));
}

/** Streams (one per topic, `SWITCHYARD_<escaped topic>`) left by tests and demos. */
export async function sweepNats(
  url: string,
  { dryRun = false, match = isLeftoverTopic }: SweepOptions = {},
): Promise<SweepCount> {
  const connection = await connect({ servers: url, timeout: 5_000, reconnect: false });
  try {
    const manager = await jetstreamManager(connection);
    const names: string[] = [];
    for await (const name of manager.streams.names()) if (isLeftoverStream(name, match)) names.push(name);
    if (!dryRun) for (const name of names) await manager.streams.delete(name);
    return { names: names.length, what: 'streams' };
  } finally {
    await connection.close();
  }
}
