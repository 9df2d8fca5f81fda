import { randomUUID } from 'node:crypto';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { sweepBroker } from '@switchyard/conformance';
import type { TransportDelivery } from '@switchyard/core/transport';
import type { Subscription } from 'rxjs';
import { resolveOptions, type SqsOptions } from '../src/options.ts';
import { SqsTransport } from '../src/transport.ts';

/** The emulator under test: the provisioning's SQS_ENDPOINT, else fauxqs on its default port. */
export const SQS_ENDPOINT = process.env.SQS_ENDPOINT ?? 'http://127.0.0.1:4566';

// Tests never reach for the EC2 metadata service: with no credentials in the environment the
// standard chain then fails fast and the transport falls back to its emulator credentials.
process.env.AWS_EC2_METADATA_DISABLED ??= 'true';

/** Short leases and polls so that redelivery and close are quick enough to observe in a test. */
export function sqsUrl(params: Record<string, string> = {}, endpoint = SQS_ENDPOINT): string {
  const query = new URLSearchParams({
    endpoint,
    region: 'us-east-1',
    visibilityTimeout: '5',
    waitTime: '1',
    ...params,
  });
  return `sqs://?${query}`;
}

/** The topics this test file named, for `sweepCreated`. */
const created = new Set<string>();

export function unique(prefix: string): string {
  const topic = `sqs-test.${prefix}.${randomUUID().slice(0, 8)}`;
  created.add(topic);
  return topic;
}

/**
 * Delete the queues and SNS topics of every topic `unique()` named in this file (groups included).
 * By exact name: SQS cuts long names and ends them in a hash, which a prefix cannot match. The
 * emulator otherwise keeps them for as long as it runs. Best effort: it never fails a test.
 */
export async function sweepCreated(): Promise<void> {
  const topics = [...created];
  created.clear();
  if (topics.length > 0) await sweepBroker('sqs', SQS_ENDPOINT, { topics }).catch(() => {});
}

/** Raw clients, as a foreign producer or an operator would use them. */
export function rawClients(endpoint = SQS_ENDPOINT): { sqs: SQSClient; sns: SNSClient } {
  const config = {
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
  return { sqs: new SQSClient(config), sns: new SNSClient(config) };
}

/** Opens transports and closes them all at the end of a test. */
export class Fixture {
  readonly #transports: SqsTransport[] = [];
  readonly #subscriptions: Subscription[] = [];

  transport(options: SqsOptions = {}, params: Record<string, string> = {}): SqsTransport {
    const transport = new SqsTransport(resolveOptions(new URL(sqsUrl(params)), options));
    this.#transports.push(transport);
    return transport;
  }

  /** Subscribe and keep every delivery in arrival order. */
  collect(transport: SqsTransport, topic: string, group: string, prefetch = 100): Collector {
    const collector = new Collector();
    const subscription = transport.subscribe(topic, { group, prefetch }).subscribe({
      next: (d) => collector.deliveries.push(d),
      error: (e: unknown) => {
        collector.error = e;
      },
    });
    collector.subscription = subscription;
    this.#subscriptions.push(subscription);
    return collector;
  }

  async close(): Promise<void> {
    for (const s of this.#subscriptions) s.unsubscribe();
    await Promise.all(this.#transports.map((t) => t.close()));
  }
}

export class Collector {
  readonly deliveries: TransportDelivery[] = [];
  subscription: Subscription | undefined;
  error: unknown;

  texts(): string[] {
    return this.deliveries.map((d) => new TextDecoder().decode(d.message.body));
  }
}

// The suite's own polling helpers, so transport tests wait the same way the cases do.
export { quiet, until } from '@switchyard/conformance';

export function text(value: string): Uint8Array {
  return new TextEncoder().encode(value);
}
