// One dead letter as plain JSON: what `inspect()` shows, what `groups()` counts and what a
// redrive filter is asked about, read from the headers the deadLetter policy wrote.
import { decode } from '../codec.ts';
import type { WireMessage } from '../transport.ts';

export interface DeadLetter {
  /** The event's id; null for a message that is not a valid event. */
  readonly id: string | null;
  readonly type: string | null;
  readonly source: string | null;
  /** The event's own `time`. */
  readonly time: string | null;
  /** `deadletterreason`: why it was dead-lettered. */
  readonly reason: string | null;
  /** `deadletterattempts`. */
  readonly attempts: number | null;
  /** `deadlettertopic` / `deadlettergroup`: where it failed, and where a redrive sends it by default. */
  readonly topic: string | null;
  readonly group: string | null;
  /** `deadletteredat` (ISO time). */
  readonly deadLetteredAt: string | null;
  /** `redrivecount`: redrives it went through already (0 for none). */
  readonly redriveCount: number;
  /** Whether it decodes as a CloudEvent (a rejected foreign message does not). */
  readonly valid: boolean;
  readonly key: string | null;
  /** Every header (CloudEvents attributes by name), as on the wire. */
  readonly headers: Readonly<Record<string, string>>;
  /** The decoded data of a valid event with JSON or text content; undefined otherwise (see `bodyBase64`). */
  readonly data?: unknown;
  /** The body as base64 where `data` cannot show it (binary, or not a valid event). */
  readonly bodyBase64?: string;
  /** Broker-side time it was written to the DLQ, ms since epoch, where known. */
  readonly writtenAt: number | null;
}

const header = (headers: Readonly<Record<string, string>>, name: string): string | null =>
  headers[name] ?? null;

/** Redrives already counted on `headers` (a malformed count reads as 0). */
export function redriveCountOf(headers: Readonly<Record<string, string>>): number {
  const count = Number(headers.redrivecount ?? 0);
  return Number.isSafeInteger(count) && count > 0 ? count : 0;
}

export function readDeadLetter(message: WireMessage, writtenAt: number | null): DeadLetter {
  const { headers } = message;
  let data: unknown;
  let valid = true;
  try {
    data = decode(message).data;
  } catch {
    valid = false;
  }
  const binary = !valid || data instanceof Uint8Array;
  const attempts = Number(headers.deadletterattempts);
  return {
    id: valid ? header(headers, 'id') : null,
    type: header(headers, 'type'),
    source: header(headers, 'source'),
    time: header(headers, 'time'),
    reason: header(headers, 'deadletterreason'),
    attempts: Number.isFinite(attempts) && headers.deadletterattempts !== undefined ? attempts : null,
    topic: header(headers, 'deadlettertopic'),
    group: header(headers, 'deadlettergroup'),
    deadLetteredAt: header(headers, 'deadletteredat'),
    redriveCount: redriveCountOf(headers),
    valid,
    key: message.key ?? null,
    headers: { ...headers },
    ...(binary ? { bodyBase64: Buffer.from(message.body).toString('base64') } : { data }),
    writtenAt,
  };
}
