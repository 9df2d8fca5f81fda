import { attributesOf } from './cloudevent.ts';
import { DecodeError, InvalidEventError } from './errors.ts';
import { eventFromAttributes, type SwitchyardEvent } from './event.ts';
import type { WireMessage } from './transport.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
const EMPTY = new Uint8Array(0);

/**
 * A message encode() made from JSON data, with the JSON text it encoded. The text is a string,
 * which nobody can change, where the bytes can be: memory:// keeps it with its copy of the message
 * (`copyWire`), and a consumer in this process parses it as published instead of decoding the
 * UTF-8 again (a third of what decoding a 1 KiB event cost, #24). Anything that makes a message of
 * its own (a spread, new headers) gets a plain one, decoded from its bytes.
 *
 * Its bytes are made on the first read of `body`: a broker's transport reads them at once, but
 * memory:// never does, and encoding 1 KiB events it only kept as text (then copying the bytes
 * for its own copy) was most of what its publishBatch cost and 200 MB of a 200 000-event backlog.
 * `body` is an own enumerable accessor, so a spread or structuredClone of the message still
 * carries the bytes, as it would of a plain object.
 *
 * Made by the bus from an event it validated (`encodeChecked`), its headers are frozen and known
 * valid: a consumer in this process builds the event from them without validating it again.
 */
class JsonWire implements WireMessage {
  readonly headers: Readonly<Record<string, string>>;
  declare readonly body: Uint8Array;
  readonly key: string | undefined;
  /** The JSON text; undefined once other bytes were put in place of its own (they are the message then). */
  #text: string | undefined;
  /** The bytes, once read or put in place: always there when the text is not. */
  #bytes: Uint8Array | undefined = undefined;
  readonly #checked: Readonly<Record<string, string>> | undefined;

  // One descriptor for every instance: its functions are shared, so instances keep one map.
  static readonly #BODY: PropertyDescriptor = {
    get(this: JsonWire): Uint8Array {
      this.#bytes ??= encoder.encode(this.#text);
      return this.#bytes;
    },
    set(this: JsonWire, bytes: Uint8Array) {
      this.#bytes = bytes;
      this.#text = undefined;
    },
    enumerable: true,
    configurable: true,
  };

  constructor(
    headers: Readonly<Record<string, string>>,
    key: string | undefined,
    text: string,
    checked: Readonly<Record<string, string>> | undefined,
  ) {
    this.headers = headers;
    Object.defineProperty(this, 'body', JsonWire.#BODY);
    this.key = key;
    this.#text = text;
    this.#checked = checked;
  }

  /** The JSON text of `message`'s body, when encode() made it and no other bytes were put in its place. */
  static textOf(message: WireMessage): string | undefined {
    return message instanceof JsonWire ? message.#text : undefined;
  }

  /** `message.body.byteLength`, without making the bytes of a JsonWire that has none yet. */
  static bodyLength(message: WireMessage): number {
    if (!(message instanceof JsonWire) || message.#bytes !== undefined) return message.body.byteLength;
    return Buffer.byteLength(message.#text!);
  }

  /**
   * At least `bodyLength(message)`, without scanning a JsonWire's text: 3 bytes per UTF-16 unit,
   * UTF-8's most (a surrogate pair's 4 bytes are 2 units).
   */
  static bodyLengthBound(message: WireMessage): number {
    if (!(message instanceof JsonWire) || message.#bytes !== undefined) return message.body.byteLength;
    return 3 * message.#text!.length;
  }

  /** `message`'s headers when they are still the frozen ones of an event the bus validated. */
  static checkedOf(message: WireMessage): Readonly<Record<string, string>> | undefined {
    return message instanceof JsonWire && message.headers === message.#checked ? message.#checked : undefined;
  }
}

/** Bytes of `message`'s body, not made for the asking (see JsonWire). */
export const bodyLength = JsonWire.bodyLength;
/** An upper bound of `bodyLength(message)` that reads no text (see JsonWire). */
export const bodyLengthBound = JsonWire.bodyLengthBound;

/** CloudEvents binary content mode: attributes become headers, data becomes the body. */
export function encode(event: SwitchyardEvent): WireMessage {
  return encodeWith(attributesOf(event), event, false);
}

/**
 * encode() for an event the caller validated (the bus's publishBatch, createEvent): its headers
 * are frozen, and a consumer in this process trusts them (see JsonWire).
 */
export function encodeChecked(event: SwitchyardEvent): WireMessage {
  return encodeWith(Object.freeze(attributesOf(event)), event, true);
}

function encodeWith(headers: Readonly<Record<string, string>>, event: SwitchyardEvent, checked: boolean) {
  const { data, datacontenttype } = event;
  if (isJsonData(data, datacontenttype)) {
    // JSON.stringify's output is well-formed UTF-16 and never starts with a BOM: its UTF-8 decodes
    // back to the same text, so keeping the text changes nothing a consumer sees.
    const text = jsonText(data);
    return new JsonWire(headers, event.partitionkey, text, checked ? headers : undefined);
  }
  return { headers, body: encodeData(data, datacontenttype), key: event.partitionkey };
}

/**
 * A copy of `message` its publisher can no longer change (headers and bytes copied; frozen headers
 * of a validated event shared), for a broker that keeps messages in this process. A message
 * encode() made from JSON keeps its text instead of bytes: the copy makes its own bytes if and when
 * they are read (see JsonWire).
 */
export function copyWire(message: WireMessage): WireMessage {
  const text = JsonWire.textOf(message);
  if (text === undefined)
    return { headers: { ...message.headers }, body: message.body.slice(), key: message.key };
  const checked = JsonWire.checkedOf(message);
  return new JsonWire(checked ?? { ...message.headers }, message.key, text, checked);
}

const isJsonData = (data: unknown, contentType: string | undefined): boolean =>
  data !== undefined && !(data instanceof Uint8Array) && (contentType === undefined || isJson(contentType));

function encodeData(data: unknown, contentType: string | undefined): Uint8Array {
  if (data === undefined) return EMPTY;
  if (data instanceof Uint8Array) return data;
  if (contentType !== undefined && !isJson(contentType)) {
    if (typeof data === 'string') return encoder.encode(data);
    throw new InvalidEventError(`Data for content type '${contentType}' must be a Uint8Array or string`);
  }
  return encoder.encode(jsonText(data));
}

/** JSON.stringify(data); an InvalidEventError for what it cannot encode. */
function jsonText(data: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(data) as string | undefined;
  } catch (error) {
    // A BigInt or a circular object: every other refusal of an event is an InvalidEventError.
    throw new InvalidEventError(`Data cannot be encoded as JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  // A function or a symbol: JSON has nothing for it (the bytes would read 'undefined').
  if (text === undefined) throw new InvalidEventError(`Data cannot be encoded as JSON: a ${typeof data}`);
  return text;
}

/** The inverse of `encode`; throws `DecodeError` for bytes that are not a valid event. */
export function decode<T = unknown>(message: WireMessage): SwitchyardEvent<T> {
  const { headers } = message;
  const specversion = headers.specversion;
  if (specversion === undefined) throw new DecodeError('Missing CloudEvents attribute specversion');
  // Only 1.0 is understood: a later version may change what an attribute means, so an event of
  // one is not guessed at but refused (and so dead-lettered with this reason).
  if (specversion !== '1.0') {
    throw new DecodeError(
      `Unsupported CloudEvents specversion '${specversion.slice(0, 40)}' (only 1.0 is understood)`,
    );
  }
  let data: unknown;
  try {
    data = decodeData(message, headers.datacontenttype);
  } catch (error) {
    throw new DecodeError(`Body is not valid ${headers.datacontenttype}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  try {
    return eventFromAttributes(headers, data as T, JsonWire.checkedOf(message) !== undefined);
  } catch (error) {
    throw new DecodeError((error as Error).message, { cause: error });
  }
}

function decodeData(message: WireMessage, contentType: string | undefined): unknown {
  if (contentType === undefined) return message.body.byteLength === 0 ? undefined : message.body;
  if (isJson(contentType)) {
    // JSON text is never empty (an empty body is no data): the bytes are not looked at then, not
    // even their length (memory://'s backlog is out of the CPU caches; each object read costs).
    const text = JsonWire.textOf(message);
    if (text !== undefined) return JSON.parse(text);
    const body = message.body;
    return body.byteLength === 0 ? undefined : JSON.parse(decoder.decode(body));
  }
  if (contentType.startsWith('text/')) return decoder.decode(message.body);
  return message.body;
}

/** Content types seen and whether they are JSON: few distinct ones in a process, so remembered. */
const jsonTypes = new Map<string, boolean>();
const JSON_TYPES_MAX = 256;

function isJson(contentType: string): boolean {
  let json = jsonTypes.get(contentType);
  if (json === undefined) {
    const base = contentType.split(';', 1)[0]!.trim().toLowerCase();
    json = base === 'application/json' || base.endsWith('+json');
    if (jsonTypes.size >= JSON_TYPES_MAX) jsonTypes.clear();
    jsonTypes.set(contentType, json);
  }
  return json;
}
