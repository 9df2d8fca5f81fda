import { copyBytes, encodedSize, rememberedNames, type WireMessage } from '@switchyard/core/transport';
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
  const attributes = message.headers;
  for (const name in attributes) headers[headerOf(name)] = attributes[name]!;
  const body = message.body;
  return {
    key: message.key ?? null,
    value: Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength),
    headers,
    // Set by retryStablePartitioner on the first send; declared here so every record has one shape.
    partition: undefined,
  };
}

/** Attribute name → header name. */
const headerOf = rememberedNames((attribute) =>
  attribute === 'datacontenttype' ? CONTENT_TYPE : PREFIX + attribute,
);

interface FetchedRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers?: IHeaders | undefined;
}

/** kafkajs record → WireMessage; headers other than the binding's are a foreign producer's and dropped. */
export function fromRecord(record: FetchedRecord): WireMessage {
  const headers: Record<string, string> = {};
  const fetched = record.headers;
  for (const name in fetched) {
    const attribute = attributeOf(name);
    if (attribute === null) continue;
    const value = headerValue(fetched[name]);
    if (value !== undefined) headers[attribute] = value;
  }
  return wireMessage(headers, record.key, record.value);
}

/**
 * A record whose headers the client decoded into a Map (@platformatic/kafka; a repeated header
 * keeps its last value there, as the binding wants) → WireMessage, read straight from the Map: no
 * kafkajs-shaped header object in between.
 */
export function fromHeaderMap(
  fetched: ReadonlyMap<string, Buffer | undefined>,
  key: Buffer | null,
  value: Buffer | null,
): WireMessage {
  const headers: Record<string, string> = {};
  for (const [name, raw] of fetched) {
    const attribute = attributeOf(name);
    if (attribute !== null && raw !== undefined) headers[attribute] = raw.toString();
  }
  return wireMessage(headers, key, value);
}

function wireMessage(headers: Record<string, string>, key: Buffer | null, value: Buffer | null): WireMessage {
  return {
    headers,
    // A copy: the record is a view into the whole fetch response, which must not stay alive with it.
    body: value === null ? new Uint8Array(0) : copyBytes(value),
    key: key === null ? undefined : key.toString(),
  };
}

/** Header name → attribute name; null for a header that is not the binding's. */
const attributeOf = rememberedNames((name): string | null => {
  const lower = name.toLowerCase();
  if (lower === CONTENT_TYPE) return 'datacontenttype';
  if (lower.startsWith(PREFIX) && lower.length > PREFIX.length) return lower.slice(PREFIX.length);
  return null;
});

function headerValue(raw: IHeaders[string]): string | undefined {
  // A repeated header arrives as an array; the binding allows one value, take the last one written.
  const last = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  if (last === undefined) return undefined;
  // toString() without arguments is Buffer's UTF-8 fast path.
  return typeof last === 'string' ? last : last.toString();
}

/**
 * An upper bound of the bytes a record takes inside a Kafka record batch (the unit the broker
 * checks against `max.message.bytes`): `encodedSize()` (body, header names and values; a header
 * name is never longer than its attribute name plus the prefix) plus the key, the prefixes and the
 * varint framing of each, which `encodedSize()` does not count. Pass `encoded` when known.
 */
export function recordSize(message: WireMessage, encoded = encodedSize(message)): number {
  let headers = 0;
  for (const _ in message.headers) headers += 1;
  return (
    64 +
    encoded +
    (message.key === undefined ? 0 : Buffer.byteLength(message.key)) +
    headers * (10 + PREFIX.length)
  );
}
