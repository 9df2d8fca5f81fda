import { execFile } from 'node:child_process';
import { connect } from 'amqplib';
import { isLeftoverTopic } from './prefixes.ts';
import type { SweepCount, SweepOptions } from './types.ts';

/** rabbitmqctl's list, or why it could not be had: AMQP itself cannot list names. */
function list(vhost: string, what: 'queues' | 'exchanges'): Promise<string[]> {
  return new Promise((resolve, reject) =>
    execFile(
      'rabbitmqctl',
      ['-q', '-p', vhost, `list_${what}`, 'name', '--no-table-headers'],
      { timeout: 60_000 },
      (error, stdout) =>
        error
          ? reject(
              new Error(
                `rabbitmqctl list_${what} failed (a remote broker cannot be swept from here): ${error.message}`,
              ),
            )
          : resolve(stdout.split('\n').filter(Boolean)),
    ),
  );
}

/**
 * Exchanges (a topic) and quorum queues (`<topic>:<group>`) left by tests and demos. Each leftover
 * quorum queue is a Raft member the node keeps running and recovers at every boot.
 */
export async function sweepRabbitMq(
  url: string,
  { dryRun = false, match = isLeftoverTopic }: SweepOptions = {},
): Promise<SweepCount> {
  const vhost = decodeURIComponent(new URL(url).pathname.slice(1)) || '/';
  const [queues, exchanges] = await Promise.all([list(vhost, 'queues'), list(vhost, 'exchanges')]);
  const leftQueues = queues.filter(match);
  const leftExchanges = exchanges.filter(match);
  if (!dryRun && leftQueues.length + leftExchanges.length > 0) {
    const connection = await connect(url, { timeout: 10_000 });
    try {
      const channel = await connection.createChannel();
      for (const queue of leftQueues) await channel.deleteQueue(queue);
      for (const exchange of leftExchanges) await channel.deleteExchange(exchange);
    } finally {
      await connection.close().catch(() => {});
    }
  }
  return { names: leftQueues.length, what: 'queues', extra: leftExchanges.length, extraWhat: 'exchanges' };
}
