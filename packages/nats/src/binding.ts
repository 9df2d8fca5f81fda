import { headers as createHeaders, type MsgHdrs } from '@nats-io/transport-node';
import { TransportError } from '@switchyard/core';
import { copyBytes, deduplicationId, rememberedNames, type WireMessage } from '@switchyard/core/transport';

// CloudEvents binary content mode on NATS, as the CloudEvents Go SDK writes it: every attribute is a
// `ce-<name>` header except `datacontenttype`, which is `content-type`; the payload is the data.
const PREFIX = 'ce-';
const CONTENT_TYPE = 'content-type';
/** The ordering key, written only when it differs from the `partitionkey` attribute. */
const KEY = 'switchyard-key';
/** Comma-separated names of the headers whose values are percent-encoded (see `needsEncoding`). */
const ENCODED = 'switchyard-encoded';
/** JetStream de-duplicates publishes by this header within the stream's duplicate window. */
export const MSG_ID = 'Nats-Msg-Id';

// An HTTP-style token: what a NATS header name may be.
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** The NATS headers for a message, `Nats-Msg-Id` set to the event id (see `deduplicationId`) so retries are de-duplicated. */
export function toNatsHeaders(message: WireMessage): MsgHdrs {
  const out = createHeaders();
  const encoded: string[] = [];
  const put = (name: string, value: string) => {
    if (needsEncoding(value)) {
      encoded.push(name);
      out.set(name, encodeURIComponent(value));
    } else {
      out.set(name, value);
    }
  };
  const attributes = message.headers;
  for (const name in attributes) put(headerOf(name), attributes[name]!);
  if (message.key !== undefined && message.key !== message.headers.partitionkey) put(KEY, message.key);
  if (encoded.length > 0) out.set(ENCODED, encoded.join(','));
  const id = deduplicationId(message);
  if (id !== undefined) out.set(MSG_ID, needsEncoding(id) ? encodeURIComponent(id) : id);
  return out;
}

/** The message a NATS message carries; headers that are not CloudEvents attributes are left out. */
export function fromNats(natsHeaders: MsgHdrs | undefined, body: Uint8Array): WireMessage {
  const headers: Record<string, string> = {};
  let key: string | undefined;
  if (natsHeaders !== undefined) {
    const listed = natsHeaders.get(ENCODED);
    const encoded = listed ? new Set(listed.split(',').filter(Boolean)) : undefined;
    for (const name of natsHeaders.keys()) {
      const attribute = attributeOf(name);
      if (attribute === null) continue;
      const raw = natsHeaders.get(name);
      const value = encoded?.has(name) ? decode(raw) : raw;
      if (attribute === ORDERING_KEY) key = value;
      else headers[attribute] = value;
    }
  }
  key ??= headers.partitionkey;
  // The client's buffer may be reused; the delivery owns its bytes.
  return { headers, body: copyBytes(body), key };
}

/** The NATS header for an attribute; throws for a name NATS cannot carry. */
const headerOf = rememberedNames((attribute) => {
  if (!HEADER_NAME.test(attribute))
    throw new TransportError(`Header name '${attribute.slice(0, 40)}' is not valid on NATS`);
  return attribute === 'datacontenttype' ? CONTENT_TYPE : PREFIX + attribute;
});

/** attributeOf's answer for the ordering-key header: no attribute name is empty. */
const ORDERING_KEY = '';

/** The attribute a header carries (ORDERING_KEY for the ordering key), or null when it is neither. */
const attributeOf = rememberedNames((header): string | null => {
  const lower = header.toLowerCase();
  if (lower === CONTENT_TYPE) return 'datacontenttype';
  if (lower === KEY) return ORDERING_KEY;
  if (lower.startsWith(PREFIX) && lower.length > PREFIX.length) return lower.slice(PREFIX.length);
  return null;
});

/** Bytes the server counts against `max_payload`: the encoded header block plus the payload. */
export function wireSize(natsHeaders: MsgHdrs, body: Uint8Array): number {
  // Mirrors the client's encoding: `NATS/1.0`, then `\r\nname: value` per value, then `\r\n\r\n`.
  let size = 'NATS/1.0'.length + 4;
  for (const [name, values] of natsHeaders) {
    for (const value of values) size += 4 + Buffer.byteLength(name) + Buffer.byteLength(value);
  }
  return size + body.byteLength;
}

// NATS header values are trimmed by the client on both ends and cannot hold CR/LF; such values are
// percent-encoded and listed in ENCODED so they arrive byte for byte. Ordinary values stay readable.
function needsEncoding(value: string): boolean {
  return value !== value.trim() || /[\r\n]/.test(value);
}

function decode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
