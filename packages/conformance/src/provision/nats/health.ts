import { randomUUID } from 'node:crypto';
import type { ProbeResult } from '../types.ts';
import { NatsConnection, type Reply } from './connection.ts';

function json(reply: Reply, what: string): Record<string, unknown> {
  if (/^NATS\/1\.0 503/.test(reply.headers)) {
    throw new Error(`no responders for ${what}: JetStream is not enabled (start nats-server with -js)`);
  }
  const body = JSON.parse(reply.data.toString('utf8')) as Record<string, unknown> & {
    error?: { code: number; description: string };
  };
  if (body.error) throw new Error(`${what}: ${body.error.code} ${body.error.description}`);
  return body;
}

/**
 * A real JetStream round trip on the raw protocol: account info, a throwaway memory stream,
 * publish one message (acked by the stream), read it back by sequence, delete the stream.
 */
export async function probeNats(url: string): Promise<ProbeResult> {
  const connection = await NatsConnection.open(url);
  const id = randomUUID().replaceAll('-', '').slice(0, 12);
  const stream = `SWITCHYARD_HEALTH_${id}`;
  const subject = `switchyard.health.${id}`;
  try {
    json(await connection.request('$JS.API.INFO', ''), '$JS.API.INFO');
    const config = { name: stream, subjects: [subject], storage: 'memory', max_msgs: 10 };
    json(
      await connection.request(`$JS.API.STREAM.CREATE.${stream}`, JSON.stringify(config)),
      'stream create',
    );
    try {
      const payload = `switchyard health ${id}`;
      const ack = json(await connection.request(subject, payload), 'publish');
      const got = json(
        await connection.request(`$JS.API.STREAM.MSG.GET.${stream}`, JSON.stringify({ seq: ack.seq })),
        'stream msg get',
      ) as { message?: { data?: string } };
      const data = Buffer.from(got.message?.data ?? '', 'base64').toString('utf8');
      if (data !== payload) throw new Error(`stream returned "${data}" instead of the published message`);
    } finally {
      await connection.request(`$JS.API.STREAM.DELETE.${stream}`, '').catch(() => {});
    }
    return { version: `nats-server ${connection.info.version ?? '?'} (JetStream)` };
  } finally {
    connection.close();
  }
}
