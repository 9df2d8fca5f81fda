import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { ProbeResult } from '../types.ts';

/**
 * A real JetStream round trip with nats.js: account info, a throwaway memory stream, publish one
 * message (acked by the stream), read it back by sequence, delete the stream.
 */
export async function probeNats(url: string): Promise<ProbeResult> {
  const connection = await connect({ servers: url, timeout: 5_000, reconnect: false });
  const id = randomUUID().replaceAll('-', '').slice(0, 12);
  const stream = `SWITCHYARD_HEALTH_${id}`;
  const subject = `switchyard.health.${id}`;
  try {
    const manager = await jetstreamManager(connection, { timeout: 5_000 }).catch((error: Error) => {
      throw new Error(`JetStream does not answer (start nats-server with -js): ${error.message}`);
    });
    await manager.streams.add({ name: stream, subjects: [subject], storage: 'memory', max_msgs: 10 });
    try {
      const payload = `switchyard health ${id}`;
      const ack = await jetstream(connection).publish(subject, payload);
      const got = await manager.streams.getMessage(stream, { seq: ack.seq });
      const data = got?.string() ?? '';
      if (data !== payload) throw new Error(`stream returned "${data}" instead of the published message`);
    } finally {
      await manager.streams.delete(stream).catch(() => {});
    }
    return { version: `nats-server ${connection.info?.version ?? '?'} (JetStream)` };
  } finally {
    await connection.close();
  }
}
