import { execFile } from 'node:child_process';
import { connect } from 'amqplib';
import { AMQP_URL } from './helpers.ts';

/**
 * Delete the queues and exchanges a test file left on the broker (every name starting with
 * `prefix`). Each leftover quorum queue is a Raft member the node keeps running and recovers at
 * every boot; a few hundred of them, run after run, is what wedged this machine's RabbitMQ. AMQP
 * cannot list names, so this asks the local node with rabbitmqctl; where there is none (a remote
 * or containerised broker) it does nothing. Best effort: it never fails a test.
 */
export async function sweep(prefix: string): Promise<void> {
  const vhost = decodeURIComponent(new URL(AMQP_URL).pathname.slice(1)) || '/';
  const list = (what: 'queues' | 'exchanges') =>
    new Promise<string[]>((resolve) =>
      execFile(
        'rabbitmqctl',
        ['-q', '-p', vhost, `list_${what}`, 'name', '--no-table-headers'],
        { timeout: 30_000 },
        (error, stdout) => resolve(error ? [] : stdout.split('\n').filter((name) => name.startsWith(prefix))),
      ),
    );
  const [queues, exchanges] = await Promise.all([list('queues'), list('exchanges')]);
  if (queues.length + exchanges.length === 0) return;
  const connection = await connect(AMQP_URL).catch(() => undefined);
  if (!connection) return;
  try {
    const channel = await connection.createChannel();
    for (const queue of queues) await channel.deleteQueue(queue);
    for (const exchange of exchanges) await channel.deleteExchange(exchange);
  } catch {
    // A queue deleted meanwhile, or the broker going away: what is left is swept next time.
  } finally {
    await connection.close().catch(() => undefined);
  }
}
