import { isUtf8 } from 'node:buffer';
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { WireMessage } from '@switchyard/core/transport';

// SQS carries at most 10 message attributes and a body of restricted Unicode text, while an event
// has any number of CloudEvents attributes and arbitrary data bytes. The layout (README, "Envelope"):
//   ce      every CloudEvents attribute as one JSON object {name: value}; its data type says what
//           the body is: `String` the data as UTF-8 text, `String.base64` the data in base64,
//           `String.empty` no data (SQS needs a body: it is a placeholder)
//   ce-key  the ordering key as a JSON string, only when it differs from partitionkey
// One attribute for almost every message: each one costs the client and the broker an MD5 and a
// parse. Text data stays readable in the body; bytes cost 4/3, as they would in any attribute.

export const HEADERS_ATTRIBUTE = 'ce';
export const KEY_ATTRIBUTE = 'ce-key';
const TEXT = 'String';
const BASE64 = 'String.base64';
const EMPTY = 'String.empty';

/** SQS needs a non-empty body; this stands in when there is no data. */
const PLACEHOLDER = '-';

/** Characters SQS (and SNS) accept in a body or String attribute. */
const UNSAFE_TEXT = /[^\t\n\r\u{20}-\u{D7FF}\u{E000}-\u{FFFD}\u{10000}-\u{10FFFF}]/u;

const encoder = new TextEncoder();
// ignoreBOM keeps a leading U+FEFF in the text, so decoding and re-encoding is byte-exact.
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

export interface SqsPayload {
  readonly body: string;
  readonly attributes: Record<string, MessageAttributeValue>;
  /** What SQS counts against its message size limit: body, attribute names, types and values. */
  readonly size: number;
}

export function toSqs(message: WireMessage): SqsPayload {
  let body = dataAsText(message.body);
  let type = TEXT;
  if (body === undefined) {
    type = message.body.byteLength === 0 ? EMPTY : BASE64;
    body =
      type === EMPTY
        ? PLACEHOLDER
        : Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength).toString(
            'base64',
          );
  }
  const attributes: Record<string, MessageAttributeValue> = {
    [HEADERS_ATTRIBUTE]: { DataType: type, StringValue: headersJson(message.headers) },
  };
  if (message.key !== undefined && message.key !== message.headers.partitionkey) {
    attributes[KEY_ATTRIBUTE] = { DataType: TEXT, StringValue: escapeUnsafe(JSON.stringify(message.key)) };
  }
  return { body, attributes, size: sizeOf(body, attributes) };
}

/**
 * The inverse of `toSqs`. A message without the `ce` attribute (a foreign producer's) comes back with
 * no headers and its body as bytes, so core rejects and dead-letters it with the reason.
 */
export function fromSqs(
  body: string | undefined,
  attributes: Record<string, MessageAttributeValue> | undefined,
): WireMessage {
  const ce = attributes?.[HEADERS_ATTRIBUTE];
  const headers = parseHeaders(ce?.StringValue);
  let bytes: Uint8Array;
  if (ce?.DataType === BASE64) {
    // Buffer.from decodes into Node's shared pool; handed on as the plain Uint8Array the API promises.
    const decoded = Buffer.from(body ?? '', 'base64');
    bytes = new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.byteLength);
  } else if (ce?.DataType === EMPTY) bytes = new Uint8Array(0);
  else bytes = encoder.encode(body ?? '');
  const key = parseKey(attributes?.[KEY_ATTRIBUTE]?.StringValue) ?? headers.partitionkey;
  return key === undefined ? { headers, body: bytes } : { headers, body: bytes, key };
}

function dataAsText(bytes: Uint8Array): string | undefined {
  // isUtf8 is a native scan: binary data is turned away without the cost of a decoder exception.
  if (bytes.byteLength === 0 || !isUtf8(bytes)) return undefined;
  const text = decoder.decode(bytes);
  return UNSAFE_TEXT.test(text) ? undefined : text;
}

function headersJson(headers: Readonly<Record<string, string>>): string {
  // JSON.stringify already escapes control characters and lone surrogates; what is left that SQS
  // refuses (U+FFFE, U+FFFF) is escaped the same way, so any string value round-trips.
  return escapeUnsafe(JSON.stringify(headers));
}

function escapeUnsafe(json: string): string {
  return json.replace(/[\uFFFE\uFFFF]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

function parseHeaders(json: string | undefined): Record<string, string> {
  if (json === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return {};
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(parsed)) {
    if (typeof value === 'string') headers[name] = value;
  }
  return headers;
}

function parseKey(json: string | undefined): string | undefined {
  if (json === undefined) return undefined;
  try {
    const key: unknown = JSON.parse(json);
    return typeof key === 'string' ? key : undefined;
  } catch {
    return undefined;
  }
}

function sizeOf(body: string, attributes: Record<string, MessageAttributeValue>): number {
  let size = Buffer.byteLength(body);
  for (const [name, value] of Object.entries(attributes)) {
    size += Buffer.byteLength(name) + Buffer.byteLength(value.DataType ?? '');
    // Binary values travel base64-encoded, and that is the length emulators count (fauxqs does).
    size += value.BinaryValue
      ? Math.ceil(value.BinaryValue.byteLength / 3) * 4
      : Buffer.byteLength(value.StringValue ?? '');
  }
  return size;
}
