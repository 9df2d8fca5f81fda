import { randomUUID } from 'node:crypto';
import { connect } from 'amqplib';
import type { ProbeResult } from '../types.ts';
import { sleep } from '../wait.ts';

/**
 * A real round trip with amqplib: connect (the server properties carry the version), an
 * exclusive auto-delete queue, publish one message to it, basic.get it back, close.
 */
export async function probeRabbitMq(url: string): Promise<ProbeResult> {
  let stage = 'connect';
  let model: Awaited<ReturnType<typeof connect>> | undefined;
  try {
    model = await connect(url, { timeout: 5_000 });
    // A resource alarm (memory or disk) stops the broker reading from publishers, which from
    // here looks like silence; say so instead of timing out.
    let blocked = '';
    model.on('blocked', (reason: string) => {
      blocked = reason;
    });
    model.on('error', () => {}); // the failing call below carries the reason
    const server = model.connection.serverProperties;
    stage = 'channel and queue declare';
    const channel = await model.createChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
    stage = 'publish and basic.get';
    const body = Buffer.from(`switchyard health ${randomUUID()}`);
    channel.sendToQueue(queue, body);
    for (let attempt = 0; ; attempt++) {
      const got = await channel.get(queue, { noAck: true });
      if (got) {
        if (!got.content.equals(body))
          throw new Error(`basic.get returned "${got.content.toString()}" instead of the published message`);
        break;
      }
      if (blocked) throw new Error(`RabbitMQ blocks publishers: ${blocked}`);
      if (attempt >= 50) throw new Error('the published message never reached its queue');
      await sleep(20); // get-empty: the publish is still on its way to the queue
    }
    return { version: `${server.product ?? 'AMQP server'} ${server.version ?? '?'}` };
  } catch (error) {
    throw new Error(`AMQP round trip failed at ${stage}: ${(error as Error).message}`);
  } finally {
    await model?.close().catch(() => {});
  }
}
