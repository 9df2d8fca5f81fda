import { randomUUID } from 'node:crypto';
import type { TransportDelivery } from '@switchyard/core/transport';
import type { Subscription } from 'rxjs';
import { type RabbitMqOptions, RabbitMqTransport } from '../src/index.ts';

export const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672/%2F';

/** The same broker, user and vhost, reached through a proxy on 127.0.0.1. */
export function amqpUrlThrough(proxy: { host: string; port: number }): string {
  const url = new URL(AMQP_URL);
  url.hostname = proxy.host;
  url.port = String(proxy.port);
  return url.toString();
}

/** Every name this test file makes starts with it, so the file can sweep them afterwards. */
export const filePrefix = `rmq-test.${randomUUID().slice(0, 6)}.`;

export function unique(prefix: string): string {
  return `${filePrefix}${prefix}.${randomUUID().slice(0, 8)}`;
}

// The suite's own polling helpers, so transport tests wait the same way the cases do.
export { quiet, until } from '@switchyard/conformance';

/** Transports and subscriptions a test opened, closed after it whatever happens. */
export class Fixture {
  readonly #transports: RabbitMqTransport[] = [];
  readonly #subscriptions: Subscription[] = [];

  async transport(options: RabbitMqOptions = {}, url = AMQP_URL): Promise<RabbitMqTransport> {
    const transport = await RabbitMqTransport.create(url, { connectionName: unique('conn'), ...options });
    this.#transports.push(transport);
    return transport;
  }

  /** Subscribe and record deliveries; `onDelivery` may settle them, else they stay unsettled. */
  consume(
    transport: RabbitMqTransport,
    topic: string,
    group: string,
    prefetch = 10,
    onDelivery?: (delivery: TransportDelivery) => void,
  ): { deliveries: TransportDelivery[]; subscription: Subscription; errors: Error[] } {
    const deliveries: TransportDelivery[] = [];
    const errors: Error[] = [];
    const subscription = transport.subscribe(topic, { group, prefetch }).subscribe({
      next: (delivery) => {
        deliveries.push(delivery);
        onDelivery?.(delivery);
      },
      error: (error: Error) => errors.push(error),
    });
    this.#subscriptions.push(subscription);
    return { deliveries, subscription, errors };
  }

  async close(): Promise<void> {
    for (const subscription of this.#subscriptions.splice(0)) subscription.unsubscribe();
    await Promise.allSettled(this.#transports.splice(0).map((t) => t.close()));
  }
}

async function rabbitmqctl(args: string[]): Promise<string> {
  const { execFile } = await import('node:child_process');
  return new Promise<string>((resolve, reject) =>
    execFile('rabbitmqctl', args, (error, stdout) => (error ? reject(error) : resolve(stdout))),
  );
}

/** The broker's pids of the connections named `connectionName` (the transport opens one to publish, one to consume). */
export async function connectionsNamed(connectionName: string): Promise<string[]> {
  // The tab-separated form prints pids as close_connection wants them (<rabbit@host.N.M.0>); the JSON form does not.
  const lines = (await rabbitmqctl(['list_connections', 'pid', 'client_properties', '-q'])).split('\n');
  return lines.filter((line) => line.includes(`"${connectionName}"`)).map((line) => line.split('\t')[0]!);
}

/**
 * Close the connections named `connectionName` from the broker side, as an operator or a node
 * shutdown would (`rabbitmqctl close_connection`). Other clients are left alone.
 */
export async function closeFromServer(connectionName: string): Promise<void> {
  const mine = await connectionsNamed(connectionName);
  if (mine.length === 0) throw new Error(`No connection named ${connectionName}`);
  for (const pid of mine) await rabbitmqctl(['close_connection', pid, 'switchyard test']);
}

export async function hasRabbitmqctl(): Promise<boolean> {
  const { execFile } = await import('node:child_process');
  return new Promise((resolve) => execFile('rabbitmqctl', ['version'], (error) => resolve(!error)));
}
