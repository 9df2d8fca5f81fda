// What a redrive does with each dead letter, and how the report counts it.
import { decode, encode } from '../codec.ts';
import type { SwitchyardEvent } from '../event.ts';
import type { WireMessage } from '../transport.ts';
import { type DeadLetter, redriveCountOf } from './dead-letters-letter.ts';

export interface RedriveOptions {
  /** Only dead letters it returns true for are redriven; the others are given back untouched. */
  readonly filter?: (letter: DeadLetter) => boolean;
  /** Change an event before it is republished (fix its data, say). Its id is kept whatever it returns. */
  readonly transform?: (event: SwitchyardEvent) => SwitchyardEvent | Promise<SwitchyardEvent>;
  /** Most dead letters republished per second (a finite number above 0). Default: as fast as the broker confirms. */
  readonly rateLimit?: number;
  /** Only count what would happen, reading without consuming (needs the transport's `peek`). */
  readonly dryRun?: boolean;
  /** A dead letter redriven this many times already goes to the parked topic instead (`Infinity`: never). Default: 3. */
  readonly maxRedrives?: number;
  /** Where redriven events go. Default: the topic each failed on (its `deadlettertopic`). */
  readonly to?: string;
  /** Stop once no dead letter arrived for this long (0 to 2^31 - 1 ms). Default: 2 000 ms. */
  readonly idleMs?: number;
  /** How long to wait for the first dead letter (a consumer group may take seconds to join; 0 to 2^31 - 1 ms). Default: 10 000 ms. */
  readonly startTimeoutMs?: number;
  /**
   * Dead letters republished in one publish. Default: 100. A value these docs rule out (NaN, 0 here)
   * makes `redrive()` reject with a RangeError naming the option before it consumes anything.
   */
  readonly batchSize?: number;
  /** Stop early: what is in hand is finished or given back, the rest stays in the DLQ. */
  readonly signal?: AbortSignal;
  /** For `dryRun`: most dead letters read. Default: 10 000. */
  readonly scanLimit?: number;
}

export interface RedriveReport {
  readonly dryRun: boolean;
  /** Dead letters looked at. */
  readonly scanned: number;
  /** Republished to their topic (or `to`). With `dryRun`: would be. */
  readonly redriven: number;
  /** Moved to `parkedTopic`, being past `maxRedrives`. */
  readonly parked: number;
  /** Not matched by `filter`: given back untouched. */
  readonly skipped: number;
  /**
   * Redriven by this run, failed again and dead-lettered meanwhile: given back for the next run
   * (which counts the redrive toward `maxRedrives`) rather than redriven round and round now.
   */
  readonly returned: number;
  /** No `to` and no `deadlettertopic` to send them to: given back. */
  readonly unroutable: number;
  /** The broker delivered a dead letter this run republished already: acked, not sent again. */
  readonly duplicates: number;
  /** `transform` threw (or the letter is not an event it could read): given back. */
  readonly failed: number;
  /** The first few `failed` reasons. */
  readonly errors: readonly string[];
  /** Republished per destination topic. */
  readonly destinations: Readonly<Record<string, number>>;
  readonly parkedTopic: string;
  /** Why it stopped: the DLQ had nothing more, `signal` aborted, or the bus closed. */
  readonly stopped: 'drained' | 'aborted' | 'closed';
  readonly durationMs: number;
}

const ERRORS_KEPT = 10;

export interface Counts {
  scanned: number;
  redriven: number;
  parked: number;
  skipped: number;
  returned: number;
  unroutable: number;
  failed: number;
  errors: string[];
  duplicates: number;
  /** Ids this run republished or parked, with which dead letter of that id it was (see `letterKey`). */
  readonly redrove: Map<string, string>;
  destinations: Record<string, number>;
}

export type Plan =
  | { readonly action: 'redrive'; readonly to: string }
  | { readonly action: 'park'; readonly to: string }
  | { readonly action: 'skip' }
  | { readonly action: 'unroutable' };

export function plan(letter: DeadLetter, options: RedriveOptions, parkedTopic: string): Plan {
  if (options.filter !== undefined && !options.filter(letter)) return { action: 'skip' };
  if (letter.redriveCount >= (options.maxRedrives ?? 3)) return { action: 'park', to: parkedTopic };
  const to = options.to ?? letter.topic;
  return to === null ? { action: 'unroutable' } : { action: 'redrive', to };
}

/**
 * Why a dead letter whose body was dropped (too large for the DLQ, see `fitted`) cannot be
 * redriven: republished, it would be the event without its data. Undefined for any other letter.
 */
export function bodyDropped(headers: Readonly<Record<string, string>>): Error | undefined {
  const dropped = headers.deadletterbodybytes;
  if (dropped === undefined) return undefined;
  return new Error(
    `its body (${dropped} bytes) was dropped when it was dead-lettered, too large for the DLQ: nothing to redrive`,
  );
}

/**
 * The message republished: the dead letter's event with its id, without the `deadletter*`
 * extensions, with `redrivecount` one more.
 */
export async function redriven(message: WireMessage, options: RedriveOptions): Promise<WireMessage> {
  const dropped = bodyDropped(message.headers);
  if (dropped) throw dropped;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) {
    if (!name.startsWith('deadletter')) headers[name] = value;
  }
  const redrives = String(redriveCountOf(message.headers) + 1);
  headers.redrivecount = redrives;
  const cleaned: WireMessage = { headers, body: message.body, key: message.key };
  if (options.transform === undefined) return cleaned;
  const event = decode(cleaned);
  const changed = await options.transform(event);
  const out = encode({
    ...changed,
    id: event.id,
    extensions: { ...changed.extensions, redrivecount: redrives },
  });
  return out;
}

export function count(counts: Counts, plan: Plan, letters = 1): void {
  counts.scanned += letters;
  switch (plan.action) {
    case 'redrive':
      counts.redriven += letters;
      counts.destinations[plan.to] = (counts.destinations[plan.to] ?? 0) + letters;
      return;
    case 'park':
      counts.parked += letters;
      return;
    case 'skip':
      counts.skipped += letters;
      return;
    case 'unroutable':
      counts.unroutable += letters;
  }
}

export function fail(counts: Counts, error: unknown): void {
  counts.scanned += 1;
  counts.failed += 1;
  if (counts.errors.length < ERRORS_KEPT)
    counts.errors.push(error instanceof Error ? error.message : String(error));
}

/** One dead-lettering of an event: a broker's redelivery of it has the same key, a later failure does not. */
export function letterKey(letter: DeadLetter): string {
  return `${letter.redriveCount}|${letter.deadLetteredAt ?? ''}`;
}
