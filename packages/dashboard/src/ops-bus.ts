import type { Inspection } from '@switchyard/core';

/** A (topic, group) pair the dashboard and the CLI watch. */
export interface Watch {
  readonly topic: string;
  readonly group: string;
}

/**
 * The part of a Bus the dashboard reads: `bus.inspect()` and `bus.deadLetters()` (#23). Written
 * structurally so the page renders whatever JSON the dead-letter view returns, field by field.
 */
export interface OpsBus {
  inspect(topic: string, options: { group: string }): Promise<Inspection>;
  deadLetters(topic: string, options: { group: string }): DeadLetterView;
}

export interface DeadLetterView {
  groups(): Promise<unknown>;
  inspect(options: { limit: number }): Promise<unknown>;
  redrive(options: { dryRun?: boolean }): Promise<unknown>;
}

/** `topic:group` (the last colon splits, so a topic may hold colons) → a Watch. */
export function parseWatch(text: string): Watch {
  const at = text.lastIndexOf(':');
  if (at <= 0 || at === text.length - 1) {
    throw new TypeError(`expected topic:group, got ${JSON.stringify(text)}`);
  }
  return { topic: text.slice(0, at), group: text.slice(at + 1) };
}
