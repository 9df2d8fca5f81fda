import { createHash } from 'node:crypto';

// AMQP short strings: exchange and queue names and routing keys are at most 255 bytes.
const MAX_SHORT_STRING = 255;

/** A topic is a durable topic exchange of the same name. */
export function exchangeName(topic: string): string {
  return checked(topic, 'topic');
}

/** A group is a durable quorum queue `<topic>:<group>` bound to the topic's exchange. */
export function queueName(topic: string, group: string): string {
  return checked(`${topic}:${group}`, 'topic and group');
}

/**
 * The routing key is the event's key, so bindings and tooling can see it. Keys longer than an AMQP
 * short string are hashed: the routing key is informative only (groups bind `#`), the key itself
 * travels in the `cloudEvents:partitionkey` header.
 */
export function routingKeyOf(key: string | undefined): string {
  if (key === undefined) return '';
  if (Buffer.byteLength(key) <= MAX_SHORT_STRING) return key;
  return `sha256.${createHash('sha256').update(key).digest('hex')}`;
}

/** One fanout exchange and one TTL queue per delay tier, shared by every topic and group. */
export function delayName(namespace: string, tierMs: number): string {
  return `${namespace}.delay.${tierMs}`;
}

function checked(name: string, what: string): string {
  if (name.length === 0) throw new RangeError(`The ${what} name must not be empty`);
  if (Buffer.byteLength(name) > MAX_SHORT_STRING) {
    throw new RangeError(`The ${what} name is longer than AMQP's 255 bytes: ${name.slice(0, 40)}...`);
  }
  if (name.startsWith('amq.'))
    throw new RangeError(`Names starting with 'amq.' are reserved by RabbitMQ: ${name}`);
  return name;
}
