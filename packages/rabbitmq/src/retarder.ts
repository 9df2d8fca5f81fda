import type { ConsumeMessage } from 'amqplib';
import { ATTEMPTS_HEADER, NOT_BEFORE_HEADER } from './binding.ts';
import { tierFor } from './delay.ts';
import { delayName } from './names.ts';
import type { ResolvedOptions } from './options.ts';
import type { Publisher } from './publisher.ts';
import type { Topology } from './topology.ts';

/** Headers the broker or this transport adds per hop; a copy starts without them. */
const PER_HOP_HEADERS = [
  'x-delivery-count',
  'x-death',
  'x-first-death-exchange',
  'x-first-death-queue',
  'x-first-death-reason',
  'x-switchyard-seq',
];

/**
 * `nack({ delayMs })` without a plugin: a copy of the message goes to the delay tier that fits, whose
 * queue dead-letters it back to the group queue when its TTL expires. The copy carries the attempts
 * spent so far (the group queue's count restarts for it) and the time it is due.
 */
export class Retarder {
  readonly #publisher: Publisher;
  readonly #topology: Topology;
  readonly #options: ResolvedOptions;

  constructor(publisher: Publisher, topology: Topology, options: ResolvedOptions) {
    this.#publisher = publisher;
    this.#topology = topology;
    this.#options = options;
  }

  delay(
    queue: string,
    message: ConsumeMessage,
    remainingMs: number,
    attempts: number,
    due: number,
  ): Promise<void> {
    const tier = tierFor(remainingMs, this.#options.delayTiersMs);
    const exchange = delayName(this.#options.namespace, tier);
    const headers: Record<string, unknown> = { ...message.properties.headers };
    for (const name of PER_HOP_HEADERS) delete headers[name];
    headers[ATTEMPTS_HEADER] = attempts;
    headers[NOT_BEFORE_HEADER] = due;
    const { contentType, messageId } = message.properties;
    return this.#publisher.publish({
      exchange,
      // Dead-lettering keeps the routing key, and the default exchange routes it to the queue of that name.
      routingKey: queue,
      content: message.content,
      options: {
        headers,
        persistent: true,
        ...(typeof contentType === 'string' ? { contentType } : {}),
        ...(typeof messageId === 'string' ? { messageId } : {}),
      },
      prepare: () => this.#topology.ensureDelayTier(tier),
      // The tier queue is bound to its exchange: a return means the topology is broken, not "no subscribers".
      mandatory: true,
    });
  }
}
