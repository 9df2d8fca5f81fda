import { attributesOf } from './cloudevent.ts';
import { DecodeError, InvalidEventError } from './errors.ts';
import { eventFromAttributes, type SwitchyardEvent } from './event.ts';
import type { WireMessage } from './transport.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
const EMPTY = new Uint8Array(0);

/** CloudEvents binary content mode: attributes become headers, data becomes the body. */
export function encode(event: SwitchyardEvent): WireMessage {
  return {
    headers: attributesOf(event),
    body: encodeData(event.data, event.datacontenttype),
    key: event.partitionkey,
  };
}

function encodeData(data: unknown, contentType: string | undefined): Uint8Array {
  if (data === undefined) return EMPTY;
  if (data instanceof Uint8Array) return data;
  if (contentType !== undefined && !isJson(contentType)) {
    if (typeof data === 'string') return encoder.encode(data);
    throw new InvalidEventError(`Data for content type '${contentType}' must be a Uint8Array or string`);
  }
  let json: string;
  try {
    json = JSON.stringify(data);
  } catch (error) {
    // A BigInt or a circular object: every other refusal of an event is an InvalidEventError.
    throw new InvalidEventError(`Data cannot be encoded as JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return encoder.encode(json);
}

/** The inverse of `encode`; throws `DecodeError` for bytes that are not a valid event. */
export function decode<T = unknown>(message: WireMessage): SwitchyardEvent<T> {
  const { headers, body } = message;
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
    data = decodeData(body, headers.datacontenttype);
  } catch (error) {
    throw new DecodeError(`Body is not valid ${headers.datacontenttype}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  try {
    return eventFromAttributes(headers, data as T);
  } catch (error) {
    throw new DecodeError((error as Error).message, { cause: error });
  }
}

function decodeData(body: Uint8Array, contentType: string | undefined): unknown {
  if (contentType === undefined) return body.byteLength === 0 ? undefined : body;
  if (isJson(contentType)) return body.byteLength === 0 ? undefined : JSON.parse(decoder.decode(body));
  if (contentType.startsWith('text/')) return decoder.decode(body);
  return body;
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
