import type { Bus } from '@switchyard/core';

/** A (topic, group) pair the dashboard and the CLI watch. */
export interface Watch {
  readonly topic: string;
  readonly group: string;
}

/** The part of a Bus the dashboard reads: `bus.inspect()` and `bus.deadLetters()`. */
export type OpsBus = Pick<Bus, 'inspect' | 'deadLetters'>;

/** `topic:group` (the last colon splits, so a topic may hold colons) → a Watch. */
export function parseWatch(text: string): Watch {
  const at = text.lastIndexOf(':');
  if (at <= 0 || at === text.length - 1) {
    throw new TypeError(`expected topic:group, got ${JSON.stringify(text)}`);
  }
  return { topic: text.slice(0, at), group: text.slice(at + 1) };
}
