import { createHash } from 'node:crypto';

// SQS queue names allow [A-Za-z0-9_-] (80 chars, `.fifo` included) and SNS topic names the same
// (256 chars), while Switchyard topics and groups are free-form ('orders.billing.dlq'). Every
// other character is escaped as `_XX` per UTF-8 byte, so `_` only ever appears followed by two
// upper-case hex digits (or `h` for a hashed tail). That keeps `__` free to separate topic from
// group: the queues of one topic are exactly those whose name starts with `<prefix><topic>__`.

const KEEP = /^[A-Za-z0-9-]$/;
const encoder = new TextEncoder();

/** A name part that is a valid SQS/SNS name and contains no `__`; one-to-one for names that fit. */
export function escapeName(name: string): string {
  let out = '';
  for (const char of name) {
    if (KEEP.test(char)) {
      out += char;
      continue;
    }
    for (const byte of encoder.encode(char)) out += `_${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** `escapeName`, cut to `max` characters with a hash of the whole name when it is longer. */
export function fitName(name: string, max: number): string {
  const escaped = escapeName(name);
  if (escaped.length <= max) return escaped;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 16);
  // Drop a half-cut escape so the tail never forms `__` with the `_h` marker.
  const head = escaped.slice(0, max - hash.length - 2).replace(/_[0-9A-F]?$/, '');
  return `${head}_h${hash}`;
}

const QUEUE_NAME_MAX = 80;
const FIFO_SUFFIX = '.fifo';
/** Room for each of topic and group in a group queue's name: 12 (prefix) + 30 + 2 + 30 + 5 (.fifo) <= 80. */
const PART_MAX = 30;
export const PREFIX_PATTERN = /^[A-Za-z0-9_-]{0,12}$/;

/** The queue of one group of one topic. */
export function groupQueueName(prefix: string, topic: string, group: string, fifo: boolean): string {
  return `${groupQueuePrefix(prefix, topic)}${fitName(group, PART_MAX)}${fifo ? FIFO_SUFFIX : ''}`;
}

/** What every group queue of `topic` starts with (for ListQueues discovery). */
export function groupQueuePrefix(prefix: string, topic: string): string {
  return `${prefix}${fitName(topic, PART_MAX)}__`;
}

/** The single queue of a topic when fan-out is off (all groups share it). */
export function topicQueueName(prefix: string, topic: string, fifo: boolean): string {
  const room = QUEUE_NAME_MAX - prefix.length - (fifo ? FIFO_SUFFIX.length : 0);
  return `${prefix}${fitName(topic, room)}${fifo ? FIFO_SUFFIX : ''}`;
}

/** The SNS topic of a Switchyard topic. */
export function snsTopicName(prefix: string, topic: string, fifo: boolean): string {
  return `${prefix}${fitName(topic, 200)}${fifo ? FIFO_SUFFIX : ''}`;
}

/** Queue name from its URL (the last path segment), for filtering ListQueues results. */
export function queueNameOf(queueUrl: string): string {
  return queueUrl.slice(queueUrl.lastIndexOf('/') + 1);
}

// FIFO MessageGroupId and MessageDeduplicationId: 1-128 characters of ASCII letters, digits and
// punctuation. Keys and ids that do not fit are replaced by a hash, which keeps them distinct.
const FIFO_ID = /^[\x21-\x7e]{1,128}$/;

export function fifoId(value: string): string {
  return FIFO_ID.test(value) ? value : `h:${createHash('sha256').update(value).digest('hex')}`;
}
