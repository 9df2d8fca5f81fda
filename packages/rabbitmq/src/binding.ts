import { encodedSize, encodedSizeBound, rememberedNames, type WireMessage } from '@switchyard/core/transport';
import type { MessageProperties, Options } from 'amqplib';

/**
 * CloudEvents AMQP binding, binary content mode: `datacontenttype` is the `content-type` property,
 * every other attribute an application header named `cloudEvents:<attribute>`.
 */
export const CE_PREFIX = 'cloudEvents:';
/** Some SDKs use `_` because `:` is awkward in JMS selectors; read both, write the binding's own. */
const CE_PREFIX_ALT = 'cloudEvents_';

/** Attempts already spent on a message before it went through a delay queue (its copy restarts the broker's count). */
export const ATTEMPTS_HEADER = 'x-switchyard-attempts';
/** Epoch ms before which a delayed copy must not be handed to a consumer. */
export const NOT_BEFORE_HEADER = 'x-switchyard-not-before';
/** The group queue's own redelivery count (quorum queues), 0 on the first delivery. */
const DELIVERY_COUNT_HEADER = 'x-delivery-count';

/**
 * amqplib encodes a headers table into a 64 KiB scratch buffer and RabbitMQ takes the properties in
 * one frame (frame_max 128 KiB): headers past this size cannot be sent whatever the body size.
 */
export const MAX_HEADER_TABLE_BYTES = 60_000;

export function toPublishOptions(
  message: WireMessage,
  extra?: Record<string, string | number>,
): Options.Publish {
  const headers: Record<string, string | number> = {};
  const attributes = message.headers;
  for (const name in attributes) {
    if (name !== 'datacontenttype') headers[headerOf(name)] = attributes[name]!;
  }
  if (extra) Object.assign(headers, extra);
  const options: Options.Publish = { headers, persistent: true };
  if (attributes.datacontenttype !== undefined) options.contentType = attributes.datacontenttype;
  if (attributes.id !== undefined) options.messageId = attributes.id;
  return options;
}

/**
 * An upper bound of the headers table's size as AMQP encodes it (long strings), to refuse what
 * amqplib would throw on. `exact`: every header name and value counted in UTF-8 (encodedSize);
 * otherwise 3 bytes a character (encodedSizeBound), a larger bound that reads no text.
 */
export function headerTableBytes(message: WireMessage, exact: boolean): number {
  // The body first: a JSON body's bytes, made now (the send needs them next), then count exactly in
  // either measure, so what remains of it is the headers'.
  const body = message.body.byteLength;
  const encoded = exact ? encodedSize(message) : encodedSizeBound(message);
  let count = 0;
  for (const _ in message.headers) count += 1;
  // Per header: name length octet, prefix, type octet, value length; plus room for the internal
  // headers a delayed copy carries.
  return 4 + (encoded - body) + count * (1 + CE_PREFIX.length + 1 + 4) + 64;
}

export function fromProperties(
  properties: MessageProperties,
  body: Buffer,
  routingKey: string | undefined,
): WireMessage {
  const headers: Record<string, string> = {};
  const received = properties.headers;
  for (const name in received) {
    const attribute = attributeOf(name);
    if (attribute !== null && !(attribute in headers)) headers[attribute] = stringOf(received[name]);
  }
  if (typeof properties.contentType === 'string') headers.datacontenttype = properties.contentType;
  const key = headers.partitionkey ?? (routingKey === '' ? undefined : routingKey);
  return { headers, body, key };
}

const headerOf = rememberedNames((attribute) => CE_PREFIX + attribute);

/** The attribute a header carries, or null when it is not a CloudEvents header. */
const attributeOf = rememberedNames((header): string | null => {
  const name = header.startsWith(CE_PREFIX)
    ? header.slice(CE_PREFIX.length)
    : header.startsWith(CE_PREFIX_ALT)
      ? header.slice(CE_PREFIX_ALT.length)
      : '';
  return name === '' ? null : name;
});

/** Attempts spent before this delivery: those carried through delay queues plus the queue's own count. */
export function priorAttempts(properties: MessageProperties): number {
  const headers = properties.headers ?? {};
  return numberOf(headers[ATTEMPTS_HEADER]) + numberOf(headers[DELIVERY_COUNT_HEADER]);
}

export function notBefore(properties: MessageProperties): number {
  return numberOf(properties.headers?.[NOT_BEFORE_HEADER]);
}

// A foreign producer may send any AMQP field type; the contract's headers are strings.
function stringOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (value instanceof Date) return value.toISOString();
  if (value && typeof value === 'object' && 'value' in value)
    return String((value as { value: unknown }).value);
  return String(value);
}

function numberOf(value: unknown): number {
  const raw =
    value && typeof value === 'object' && 'value' in value ? (value as { value: unknown }).value : value;
  const n = typeof raw === 'bigint' ? Number(raw) : Number(raw);
  return Number.isFinite(n) && n > 0 ? n : 0;
}
