import { randomUUID } from 'node:crypto';
import { NAMED_ATTRIBUTES, validateEvent } from './cloudevent.ts';

/** A CloudEvents 1.0 event as handlers see it. Extension attributes are string-valued. */
export interface SwitchyardEvent<T = unknown> {
  readonly specversion: '1.0';
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly time: string;
  readonly subject?: string | undefined;
  readonly datacontenttype?: string | undefined;
  readonly dataschema?: string | undefined;
  /**
   * Decoded JSON, a string for text/*, else the bytes as a Uint8Array, which may be a view into a
   * larger buffer: use its byteOffset and byteLength, not `.buffer` alone.
   */
  readonly data: T;
  /** The event that started this conversation; its own id for a first event. */
  readonly correlationid: string;
  /** The event whose handler published this one. */
  readonly causationid?: string | undefined;
  /** Ordering key (CloudEvents `partitionkey`); `key` is the same value. */
  readonly partitionkey?: string | undefined;
  readonly key?: string | undefined;
  /** W3C trace context. */
  readonly traceparent?: string | undefined;
  readonly tracestate?: string | undefined;
  /** Every other extension attribute (e.g. `dataversion`, `deadletterreason`). */
  readonly extensions: Readonly<Record<string, string>>;
}

/** What a publisher writes; everything else is filled in. */
export interface EventInput<T = unknown> {
  readonly type: string;
  readonly data?: T;
  readonly key?: string | undefined;
  readonly subject?: string | undefined;
  readonly id?: string | undefined;
  readonly time?: string | Date | undefined;
  readonly source?: string | undefined;
  readonly dataschema?: string | undefined;
  readonly datacontenttype?: string | undefined;
  readonly correlationid?: string | undefined;
  readonly causationid?: string | undefined;
  readonly traceparent?: string | undefined;
  readonly tracestate?: string | undefined;
  readonly extensions?: Readonly<Record<string, string>> | undefined;
}

/** Fill in id, time, source, specversion, datacontenttype and correlationid, then validate. */
export function createEvent<T>(input: EventInput<T>, defaultSource: string): SwitchyardEvent<T> {
  const id = input.id ?? randomUUID();
  const time = input.time instanceof Date ? input.time.toISOString() : (input.time ?? nowIso());
  const data = input.data as T;
  const event: SwitchyardEvent<T> = {
    specversion: '1.0',
    id,
    source: input.source ?? defaultSource,
    type: input.type,
    time,
    subject: input.subject,
    datacontenttype: input.datacontenttype ?? contentTypeOf(data),
    dataschema: input.dataschema,
    data,
    correlationid: input.correlationid ?? id,
    causationid: input.causationid,
    partitionkey: input.key,
    key: input.key,
    traceparent: input.traceparent,
    tracestate: input.tracestate,
    extensions: { ...input.extensions },
  };
  validateEvent(event);
  return event;
}

/** The current time as toISOString() writes it; events created in the same millisecond share it. */
let lastNow = Number.NaN;
let lastNowIso = '';

function nowIso(): string {
  const now = Date.now();
  if (now !== lastNow) {
    lastNow = now;
    lastNowIso = new Date(now).toISOString();
  }
  return lastNowIso;
}

function contentTypeOf(data: unknown): string | undefined {
  if (data === undefined) return undefined;
  return data instanceof Uint8Array ? 'application/octet-stream' : 'application/json';
}

/**
 * Rebuild an event from attributes and decoded data; `checked`: the attributes are the frozen ones
 * of an event validated in this process (see codec.ts), not validated again.
 */
export function eventFromAttributes<T>(
  attributes: Readonly<Record<string, string>>,
  data: T,
  checked = false,
): SwitchyardEvent<T> {
  const extensions: Record<string, string> = {};
  for (const name in attributes) {
    if (!NAMED_ATTRIBUTES.has(name)) extensions[name] = attributes[name]!;
  }
  // An event of another version is not relabelled 1.0: validateEvent() below refuses it.
  const event: SwitchyardEvent<T> = {
    specversion: (attributes.specversion ?? '1.0') as '1.0',
    id: attributes.id ?? '',
    source: attributes.source ?? '',
    type: attributes.type ?? '',
    time: attributes.time ?? '',
    subject: attributes.subject,
    datacontenttype: attributes.datacontenttype,
    dataschema: attributes.dataschema,
    data,
    correlationid: attributes.correlationid ?? attributes.id ?? '',
    causationid: attributes.causationid,
    partitionkey: attributes.partitionkey,
    key: attributes.partitionkey,
    traceparent: attributes.traceparent,
    tracestate: attributes.tracestate,
    extensions,
  };
  if (!checked) validateEvent(event);
  return event;
}
