import { InvalidNameError } from './errors.ts';

// One rule for topic and group names on every transport, memory:// included: what all four brokers
// accept as Switchyard maps names onto them, so code that runs on one broker runs on the others.
// - Kafka: a topic is 1-249 of `A-Z a-z 0-9 . _ -`, and not `.` or `..`.
// - NATS: a topic is the subject, dot-separated tokens (no empty one), no whitespace, `*` or `>`.
// - RabbitMQ: a topic is an exchange and a group the queue `<topic>:<group>`, an AMQP short string
//   of at most 255 bytes; names starting with `amq.` are reserved.
// - SQS/SNS: queue and topic names are escaped and hashed to fit, so they add no rule.
const PART = /^[A-Za-z0-9_-]+$/;
const TOPIC_MAX = 249;
/** RabbitMQ's `<topic>:<group>` queue name, 255 bytes at most (ASCII: a byte each). */
const TOPIC_AND_GROUP_MAX = 254;

export const NAME_RULE =
  "1-249 characters of A-Z a-z 0-9 '_' '-', in parts joined by single dots (no dot at either end), not starting with 'amq.'";

/** Names that passed, so a publish loop checks its topic once: few distinct ones in a process. */
const goodTopics = new Set<string>();
const goodGroups = new Set<string>();
const GOOD_MAX = 1_000;

function fits(name: string, max: number): boolean {
  if (typeof name !== 'string' || name.length === 0 || name.length > max) return false;
  if (name.startsWith('amq.')) return false;
  for (const part of name.split('.')) if (!PART.test(part)) return false;
  return true;
}

function remember(known: Set<string>, name: string): void {
  if (known.size >= GOOD_MAX) known.clear();
  known.add(name);
}

function shown(name: unknown): string {
  return typeof name === 'string' ? `'${name.slice(0, 80)}${name.length > 80 ? '…' : ''}'` : String(name);
}

/** Throws `InvalidNameError` saying what is allowed unless `topic` follows the name rule. */
export function assertTopicName(topic: string): void {
  if (goodTopics.has(topic)) return;
  if (!fits(topic, TOPIC_MAX)) {
    throw new InvalidNameError('topic', topic, `Topic ${shown(topic)} is not a valid name: use ${NAME_RULE}`);
  }
  remember(goodTopics, topic);
}

/** `assertTopicName` for both, and the group with the topic fits in 254 characters. */
export function assertGroupName(topic: string, group: string): void {
  assertTopicName(topic);
  const key = `${topic}:${group}`;
  if (goodGroups.has(key)) return;
  if (!fits(group, TOPIC_MAX)) {
    throw new InvalidNameError('group', group, `Group ${shown(group)} is not a valid name: use ${NAME_RULE}`);
  }
  if (topic.length + group.length > TOPIC_AND_GROUP_MAX) {
    throw new InvalidNameError(
      'group',
      group,
      `Group ${shown(group)} of topic ${shown(topic)}: topic and group together may be at most ${TOPIC_AND_GROUP_MAX} characters (RabbitMQ names the group's queue '<topic>:<group>', 255 bytes at most)`,
    );
  }
  remember(goodGroups, key);
}
