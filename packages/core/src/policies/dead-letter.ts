import type { Delivery } from '../delivery.ts';
import { DEAD_LETTER_GROUP } from '../ops/stats.ts';
import type { Transport } from '../transport.ts';

export interface DeadLetterOptions {
  /** Where dead letters go. Default: `<topic>.<group>.dlq`. */
  readonly topic?: string;
}

/** Where `delivery`'s dead letters go (only its topic and group are read, so `bus.inspect()` can ask too). */
export function deadLetterTopic(
  delivery: Pick<Delivery, 'topic' | 'group'>,
  options: DeadLetterOptions | undefined,
): string {
  return options?.topic ?? `${delivery.topic}.${delivery.group}.dlq`;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: header values must not carry control characters
const CONTROL = /[\u0000-\u001f\u007f-\u009f]+/g;

type Provisioner = Pick<Transport, 'provision' | 'capabilities'>;

/** Per transport (one per bus), the DLQ topics whose DEAD_LETTER_GROUP exists or is being made. */
const kept = new WeakMap<Provisioner, Map<string, Promise<void>>>();

/**
 * Make sure `topic` keeps what is published to it: RabbitMQ, SNS and NATS drop a message no group
 * is bound to, so DEAD_LETTER_GROUP is provisioned before the first dead letter. Once per topic per
 * transport; a failure is forgotten, so the next dead letter tries again (and this one is not acked).
 * From the earliest retained message where the broker can replay (so dead letters written before
 * this group existed count too); elsewhere nothing older is retained for a new group to find.
 */
export function keepDeadLetters(transport: Provisioner, topic: string): Promise<void> {
  const topics = kept.get(transport) ?? new Map<string, Promise<void>>();
  kept.set(transport, topics);
  let keeping = topics.get(topic);
  if (keeping === undefined) {
    const from = transport.capabilities.replay ? 'earliest' : 'latest';
    keeping = transport.provision(topic).then(() => transport.provision(topic, DEAD_LETTER_GROUP, from));
    topics.set(topic, keeping);
    const forgetFailure = () => {
      if (topics.get(topic) === keeping) topics.delete(topic);
    };
    keeping.catch(forgetFailure);
  }
  return keeping;
}

/**
 * Publish the delivery's message unchanged plus the `deadletter*` extensions, and wait for the
 * broker to confirm. The caller acks only after this resolves, so a failure here loses nothing.
 */
export async function deadLetter(
  delivery: Delivery,
  reason: string,
  attempts: number,
  options?: DeadLetterOptions,
): Promise<string> {
  const topic = deadLetterTopic(delivery, options);
  const { message, origin } = delivery;
  if (origin.transport !== undefined) await keepDeadLetters(origin.transport, topic);
  await origin.publishWire(topic, [
    {
      headers: {
        ...message.headers,
        deadletterreason: reason.replace(CONTROL, ' ').slice(0, 1024),
        deadletterattempts: String(attempts),
        deadlettertopic: delivery.topic,
        deadlettergroup: delivery.group,
        deadletteredat: new Date().toISOString(),
      },
      body: message.body,
      key: message.key,
    },
  ]);
  return topic;
}
