import { createHash } from 'node:crypto';
import { assertTopicName } from '@switchyard/core';

// Stream and consumer names become API subject tokens and directory names on the server, so they
// may hold none of `. * > / \` or whitespace, and should stay well under a file name's 255 bytes.
const NAME_SAFE = /[A-Za-z0-9-]/;
const MAX_NAME = 200;

/** The subject a topic's events are published on. */
export function subjectFor(prefix: string, topic: string): string {
  // The core rule (dot-separated parts of A-Z a-z 0-9 _ -) makes every topic a valid subject.
  assertTopicName(topic);
  return prefix + topic;
}

/** The stream that holds a topic: the prefix plus the topic escaped into a valid, collision-free name. */
export function streamNameFor(prefix: string, topic: string): string {
  return prefix + escapeName(topic);
}

/** The durable consumer that is a group. */
export function durableNameFor(group: string): string {
  return escapeName(group);
}

/**
 * Injective escaping: safe characters stay, every other UTF-8 byte (including `_` itself) becomes
 * `_XX`, so two different inputs never share a name. Overlong results keep a readable head and end
 * in a hash of the input.
 */
function escapeName(value: string): string {
  let escaped = '';
  for (const char of value) {
    if (NAME_SAFE.test(char)) {
      escaped += char;
      continue;
    }
    for (const byte of Buffer.from(char, 'utf8'))
      escaped += `_${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  if (escaped.length <= MAX_NAME) return escaped;
  const hash = createHash('sha256').update(value).digest('hex').slice(0, 32);
  return `${escaped.slice(0, MAX_NAME - 34)}__${hash}`;
}
