import type { Delivery } from '../delivery.ts';

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
  const { message } = delivery;
  await delivery.origin.publishWire(topic, [
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
