import type { WireMessage } from '@switchyard/core';
import type { IHeaders, Message } from 'kafkajs';

// CloudEvents Kafka protocol binding, binary content mode: every context attribute is a `ce_`
// header, except datacontenttype which is the record's `content-type` header; the data is the
// record value unchanged; the partitionkey extension is also the record key, so Kafka routes one
// key to one partition.
const PREFIX = 'ce_';
const CONTENT_TYPE = 'content-type';

/** WireMessage → kafkajs record. */
export function toRecord(message: WireMessage): Message {
  const headers: IHeaders = {};
  for (const [name, value] of Object.entries(message.headers)) {
    headers[name === 'datacontenttype' ? CONTENT_TYPE : PREFIX + name] = value;
  }
  return {
    key: message.key ?? null,
    value: Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength),
    headers,
  };
}

interface FetchedRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers?: IHeaders | undefined;
}

/** kafkajs record → WireMessage; headers other than the binding's are a foreign producer's and dropped. */
export function fromRecord(record: FetchedRecord): WireMessage {
  const headers: Record<string, string> = {};
  for (const [name, raw] of Object.entries(record.headers ?? {})) {
    const value = headerValue(raw);
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (lower === CONTENT_TYPE) headers.datacontenttype = value;
    else if (lower.startsWith(PREFIX) && lower.length > PREFIX.length)
      headers[lower.slice(PREFIX.length)] = value;
  }
  const value = record.value ?? Buffer.alloc(0);
  return {
    headers,
    // A copy: the record is a view into the whole fetch response, which must not stay alive with it.
    body: new Uint8Array(value),
    key: record.key === null ? undefined : record.key.toString('utf8'),
  };
}

function headerValue(raw: IHeaders[string]): string | undefined {
  // A repeated header arrives as an array; the binding allows one value, take the last one written.
  const last = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  if (last === undefined) return undefined;
  return typeof last === 'string' ? last : last.toString('utf8');
}

/**
 * An upper bound of the bytes a record takes inside a Kafka record batch (the unit the broker
 * checks against `max.message.bytes`): body, key, prefixed header names and values, and the
 * varint framing of each, which `encodedSize()` does not count.
 */
export function recordSize(message: WireMessage): number {
  let size = 64 + message.body.byteLength + (message.key === undefined ? 0 : Buffer.byteLength(message.key));
  for (const [name, value] of Object.entries(message.headers)) {
    size += 10 + PREFIX.length + Buffer.byteLength(name) + Buffer.byteLength(value);
  }
  return size;
}
