import { createHash } from 'node:crypto';
import { assertGroupName, assertTopicName } from '@switchyard/core';

// AMQP short strings: exchange and queue names and routing keys are at most 255 bytes.
const MAX_SHORT_STRING = 255;

/** A topic is a durable topic exchange of the same name. */
export function exchangeName(topic: string): string {
  assertTopicName(topic);
  return topic;
}

/** A group is a durable quorum queue `<topic>:<group>` bound to the topic's exchange. */
export function queueName(topic: string, group: string): string {
  // The core rule keeps it within an AMQP short string and clear of the reserved 'amq.' names.
  assertGroupName(topic, group);
  return `${topic}:${group}`;
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
