import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { streamNameFor } from '../src/names.ts';
import { NATS_URL } from './helpers.ts';

/**
 * Delete the streams a test file left on the server (every topic starting with `prefix`, under the
 * default stream prefix). Each is a directory in the JetStream store that the server keeps and
 * recovers at every start, run after run. Best effort: it never fails a test.
 */
export async function sweep(prefix: string): Promise<void> {
  const nc = await connect({ servers: new URL(NATS_URL).host }).catch(() => undefined);
  if (!nc) return;
  try {
    const jsm = await jetstreamManager(nc);
    const start = streamNameFor('SWITCHYARD_', prefix);
    const names: string[] = [];
    for await (const name of jsm.streams.names()) if (name.startsWith(start)) names.push(name);
    for (const name of names) await jsm.streams.delete(name).catch(() => false);
  } catch {
    // The server going away: what is left is swept next time.
  } finally {
    await nc.close().catch(() => undefined);
  }
}
