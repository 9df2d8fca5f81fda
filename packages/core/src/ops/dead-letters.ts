// `bus.deadLetters(topic, { group })`: the group's dead letters, read through DEAD_LETTER_GROUP
// (which the deadLetter policy provisions on every DLQ): counted by reason and type, shown without
// consuming, and redriven. Every result is plain JSON, for a CLI or a dashboard as much as for code.
import type { Bus } from '../bus.ts';
import { UnsupportedOperationError } from '../errors.ts';
import { assertGroupName } from '../names.ts';
import { positiveInteger, positiveRate, timerDelay } from '../option-checks.ts';
import { deadLetterTopic } from '../policies/dead-letter.ts';
import { type DeadLetter, readDeadLetter } from './dead-letters-letter.ts';
import { type RedriveOptions, type RedriveReport, redrive } from './dead-letters-redrive.ts';
import { DEAD_LETTER_GROUP } from './stats.ts';

export interface DeadLettersOptions {
  /** The group whose dead letters these are. */
  readonly group: string;
  /** The DLQ topic when handle() was given `deadLetter: { topic }`. Default: `<topic>.<group>.dlq`. */
  readonly deadLetterTopic?: string;
}

/** Dead letters that share a reason and an event type. */
export interface DeadLetterGroup {
  readonly reason: string | null;
  readonly type: string | null;
  readonly count: number;
  /** ISO times of the earliest and latest dead-lettering in the group (`deadletteredat`). */
  readonly first: string | null;
  readonly last: string | null;
}

export interface ScanOptions {
  /** Most dead letters read (oldest first) to answer. Default: 10 000. */
  readonly scanLimit?: number;
}

export interface InspectDeadLettersOptions extends ScanOptions {
  /** Most dead letters returned. Default: 20. */
  readonly limit?: number;
  /** Only those it returns true for. */
  readonly filter?: (letter: DeadLetter) => boolean;
}

export interface DeadLetters {
  /** The DLQ topic read. */
  readonly topic: string;
  /** Counts by reason and type, most first, without consuming anything. */
  groups(options?: ScanOptions): Promise<DeadLetterGroup[]>;
  /** Dead letters oldest first, without consuming them. */
  inspect(options?: InspectDeadLettersOptions): Promise<DeadLetter[]>;
  /** Republish dead letters (see RedriveOptions); resolves with what was done. */
  redrive(options?: RedriveOptions): Promise<RedriveReport>;
}

export const DEFAULT_SCAN_LIMIT = 10_000;

export function deadLetters(bus: Bus, topic: string, options: DeadLettersOptions): DeadLetters {
  assertGroupName(topic, options.group);
  const dlq = deadLetterTopic(
    { topic, group: options.group },
    options.deadLetterTopic === undefined ? undefined : { topic: options.deadLetterTopic },
  );
  const scan = (options?: ScanOptions) =>
    peekAll(bus, dlq, count('scanLimit', options?.scanLimit ?? DEFAULT_SCAN_LIMIT));
  return {
    topic: dlq,
    groups: async (options) => countGroups(await scan(options)),
    async inspect(options = {}) {
      const limit = count('limit', options.limit ?? 20);
      const letters = await scan(options);
      const filter = options.filter;
      return (filter ? letters.filter((letter) => filter(letter)) : letters).slice(0, limit);
    },
    redrive: async (options = {}) => {
      checkRedrive(options);
      return redrive(bus, dlq, options, () => scan({ scanLimit: options.scanLimit ?? DEFAULT_SCAN_LIMIT }));
    },
  };
}

/**
 * A limit must be a positive integer: `slice(0, NaN)` is empty, so a limit parsed from a typo
 * would answer "no dead letters" for a DLQ that has some.
 */
const count = positiveInteger;

/**
 * Refuse what a redrive cannot mean before it consumes anything: a batchSize of NaN took nothing
 * from its inbox and spun, a rateLimit of 0 slept Infinity (1 ms, so no limit), and an idleMs or
 * startTimeoutMs of Infinity (a timer runs it after 1 ms) reported an untouched DLQ 'drained'.
 */
function checkRedrive(options: RedriveOptions): void {
  if (options.batchSize !== undefined) positiveInteger('batchSize', options.batchSize);
  if (options.scanLimit !== undefined) positiveInteger('scanLimit', options.scanLimit);
  if (options.maxRedrives !== undefined) nonNegativeInteger('maxRedrives', options.maxRedrives);
  if (options.rateLimit !== undefined) positiveRate('rateLimit', options.rateLimit);
  if (options.idleMs !== undefined) timerDelay('idleMs', options.idleMs);
  if (options.startTimeoutMs !== undefined) timerDelay('startTimeoutMs', options.startTimeoutMs);
}

/** A whole number from 0, or Infinity (never parked). */
function nonNegativeInteger(name: string, value: number): void {
  if (!(value === Number.POSITIVE_INFINITY || (Number.isInteger(value) && value >= 0)))
    throw new RangeError(`${name} must be a whole number ≥ 0 or Infinity, not ${String(value)}`);
}

/** Up to `limit` dead letters, oldest first, read through DEAD_LETTER_GROUP without consuming. */
async function peekAll(bus: Bus, dlq: string, limit: number): Promise<DeadLetter[]> {
  const transport = bus.transport;
  if (transport.peek === undefined) {
    throw new UnsupportedOperationError(
      `The ${transport.name} transport cannot read dead letters without consuming them (it has no peek())`,
    );
  }
  const peeked = await transport.peek(dlq, DEAD_LETTER_GROUP, limit);
  return peeked.map(({ message, writtenAt }) => readDeadLetter(message, writtenAt));
}

function countGroups(letters: readonly DeadLetter[]): DeadLetterGroup[] {
  const groups = new Map<
    string,
    { reason: string | null; type: string | null; count: number; first: string | null; last: string | null }
  >();
  for (const letter of letters) {
    const id = JSON.stringify([letter.reason, letter.type]);
    const at = letter.deadLetteredAt;
    const group = groups.get(id);
    if (group === undefined) {
      groups.set(id, { reason: letter.reason, type: letter.type, count: 1, first: at, last: at });
      continue;
    }
    group.count += 1;
    if (at !== null && (group.first === null || at < group.first)) group.first = at;
    if (at !== null && (group.last === null || at > group.last)) group.last = at;
  }
  return [...groups.values()].sort((a, b) => b.count - a.count);
}
