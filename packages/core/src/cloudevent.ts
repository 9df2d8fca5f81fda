import { CloudEvent } from 'cloudevents';
import { InvalidEventError } from './errors.ts';
import type { SwitchyardEvent } from './event.ts';

// The CloudEvents side of an event: its attributes by CloudEvents name, and the validator that
// decides what may go on the wire (hand-tuned: the SDK is asked only what the fast checks cannot settle).

/** Attributes with a field of their own on SwitchyardEvent; any other name is an extension. */
export const NAMED_ATTRIBUTES = new Set([
  'specversion',
  'id',
  'source',
  'type',
  'time',
  'subject',
  'datacontenttype',
  'dataschema',
  'correlationid',
  'causationid',
  'partitionkey',
  'traceparent',
  'tracestate',
]);

/** The context attributes of an event as CloudEvents names → string values (no data). */
export function attributesOf(event: SwitchyardEvent): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const name of NAMED_ATTRIBUTES) {
    const value = (event as unknown as Record<string, unknown>)[name];
    if (typeof value === 'string') attributes[name] = value;
  }
  const extensions = event.extensions;
  for (const name in extensions) attributes[name] = extensions[name]!;
  return attributes;
}

// CloudEvents: attribute names are lower-case ASCII letters and digits; values carry no control
// characters. Checking both here is what keeps a name or value from smuggling a header onto the wire.
const NAME = /^[a-z0-9]{1,20}$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export function assertAttribute(name: string, value: string): void {
  if (!NAME.test(name)) {
    throw new InvalidEventError(
      `Attribute name '${name.slice(0, 40)}' must be 1-20 lower-case letters or digits`,
    );
  }
  if (typeof value !== 'string') throw new InvalidEventError(`Attribute '${name}' must be a string`);
  if (CONTROL.test(value)) throw controlCharacter(name);
}

const controlCharacter = (name: string) =>
  new InvalidEventError(`Attribute '${name}' contains a control character`);

const requiredEmpty = (name: string) => new InvalidEventError(`Required attribute '${name}' is empty`);

/** assertAttribute's value check for a named attribute (its name is valid), when it is a string; returns the value. */
function controlFree(name: string, value: unknown): unknown {
  if (typeof value === 'string') {
    if (CONTROL.test(value)) throw controlCharacter(name);
  } else if (value !== undefined) {
    // attributesOf() would leave it out: the event would go without it (a key lost on some
    // brokers, a client library's TypeError on others) rather than be refused here.
    throw notAString(name);
  }
  return value;
}

const notAString = (name: string) => new InvalidEventError(`Attribute '${name}' must be a string`);

/** The last value of each often-repeated attribute that controlFree() passed. */
const clean: { source: unknown; type: unknown; time: unknown; datacontenttype: unknown } = {
  source: undefined,
  type: undefined,
  time: undefined,
  datacontenttype: undefined,
};

/** Extension names that passed NAME: few distinct ones in a process, so remembered. */
const goodNames = new Set<string>();
const GOOD_NAMES_MAX = 1_000;

/** assertAttribute for an extension, with its name checked once per process. */
function assertExtension(name: string, value: string): void {
  if (goodNames.has(name) && typeof value === 'string') {
    if (CONTROL.test(value)) throw controlCharacter(name);
    return;
  }
  assertAttribute(name, value);
  if (goodNames.size >= GOOD_NAMES_MAX) goodNames.clear();
  goodNames.add(name);
}

/**
 * No extension that attributesOf() would let override a named attribute, that the SDK treats
 * specially, or that sorts before the others (an integer-like name): then the event's own fields
 * are its attributes, in attributesOf() order.
 */
function plainExtensions(extensions: Readonly<Record<string, string>>): boolean {
  for (const name in extensions) {
    if (NAMED_ATTRIBUTES.has(name) || SDK_SPECIAL.has(name)) return false;
    const first = name.charCodeAt(0);
    if (first >= 48 && first <= 57) return false;
  }
  return true;
}

/** Throws `InvalidEventError` unless the event is a valid CloudEvents 1.0 event. */
export function validateEvent(event: SwitchyardEvent): void {
  if (event.specversion !== '1.0')
    throw new InvalidEventError(`Unsupported specversion '${event.specversion}'`);
  if (!event.id) throw requiredEmpty('id');
  if (!event.source) throw requiredEmpty('source');
  if (!event.type) throw requiredEmpty('type');
  if (plainExtensions(event.extensions)) {
    // The checks below in the order attributesOf() would list them, without building it; one
    // field at a time, as a loop over names would read each through a megamorphic keyed load.
    // specversion is '1.0', checked above.
    // Values that repeat from event to event (source, type, time, content type; correlationid is
    // mostly the id) are compared with the last one found clean: cheaper than the regex again.
    controlFree('id', event.id);
    if (event.source !== clean.source) clean.source = controlFree('source', event.source);
    if (event.type !== clean.type) clean.type = controlFree('type', event.type);
    if (event.time !== clean.time) clean.time = controlFree('time', event.time);
    controlFree('subject', event.subject);
    if (event.datacontenttype !== clean.datacontenttype)
      clean.datacontenttype = controlFree('datacontenttype', event.datacontenttype);
    controlFree('dataschema', event.dataschema);
    if (event.correlationid !== event.id) controlFree('correlationid', event.correlationid);
    controlFree('causationid', event.causationid);
    controlFree('partitionkey', event.partitionkey);
    controlFree('traceparent', event.traceparent);
    controlFree('tracestate', event.tracestate);
    const extensions = event.extensions;
    for (const name in extensions) assertExtension(name, extensions[name]!);
    if (surelyValidEvent(event)) return;
  } else {
    for (const name of NAMED_ATTRIBUTES)
      controlFree(name, (event as unknown as Record<string, unknown>)[name]);
    for (const [name, value] of Object.entries(attributesOf(event))) assertAttribute(name, value);
  }
  const attributes = attributesOf(event);
  if (surelyValid(attributes)) return;
  try {
    // The SDK checks the spec's rules (required attributes, URI-reference source, RFC 3339 time)
    // on attributes only: handing it the data would make it base64 every binary payload.
    new CloudEvent(attributes, true);
  } catch (error) {
    throw new InvalidEventError(`Not a valid CloudEvent: ${describe(error)}`, { cause: error });
  }
}

// Building a CloudEvent (a copy, a freeze, the ajv schema with its format checks) took a third of
// the time of a publish and of a delivery on memory://. The checks below accept only what the SDK
// surely accepts; anything else still goes to the SDK, so what is refused and why is unchanged.

/**
 * A time is surely valid in the format `Date#toISOString()` writes,
 * `^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.\d{3}Z$`, with its fields in range: then it
 * is a valid RFC 3339 date-time. Days per month, February of a leap year:
 */
const MONTH_DAYS = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
/** Names the SDK treats specially (a 1.0 event with `schemaurl` is refused, `data` is the payload). */
const SDK_SPECIAL = new Set(['schemaurl', 'datacontentencoding', 'data']);
/** `source` and `dataschema` values remembered per attribute: few distinct ones in a process. */
const ACCEPTED_URIS_MAX = 1_000;

/** surelyValid(attributesOf(event)) for an event with plainExtensions(). */
function surelyValidEvent(event: SwitchyardEvent): boolean {
  const time = stringOrUndefined(event.time);
  const source = stringOrUndefined(event.source);
  const dataschema = stringOrUndefined(event.dataschema);
  if (time !== undefined && time !== '' && !isoTimeInRange(time)) return false;
  if (event.subject === '' || event.datacontenttype === '') return false;
  if (source === undefined || !uriAccepted('source', source)) return false;
  if (dataschema !== undefined && !uriAccepted('dataschema', dataschema)) return false;
  return true;
}

const stringOrUndefined = (value: unknown) => (typeof value === 'string' ? value : undefined);

function surelyValid(attributes: Readonly<Record<string, string>>): boolean {
  const { time, source, dataschema, subject, datacontenttype } = attributes;
  if (time !== undefined && time !== '' && !isoTimeInRange(time)) return false;
  if (subject === '' || datacontenttype === '') return false;
  if (source === undefined || !uriAccepted('source', source)) return false;
  if (dataschema !== undefined && !uriAccepted('dataschema', dataschema)) return false;
  for (const name in attributes) if (SDK_SPECIAL.has(name)) return false;
  return true;
}

/** The last time found in range: events published together mostly share their millisecond. */
let lastTimeInRange = '';

function isoTimeInRange(time: string): boolean {
  if (time === lastTimeInRange) return true;
  // The format above, read by character code: a regex match array and six Number() calls cost more.
  if (
    time.length !== 24 ||
    time.charCodeAt(4) !== 45 || // -
    time.charCodeAt(7) !== 45 ||
    time.charCodeAt(10) !== 84 || // T
    time.charCodeAt(13) !== 58 || // :
    time.charCodeAt(16) !== 58 ||
    time.charCodeAt(19) !== 46 || // .
    time.charCodeAt(23) !== 90 // Z
  ) {
    return false;
  }
  const year = digits(time, 0, 4);
  const month = digits(time, 5, 2);
  const day = digits(time, 8, 2);
  const hour = digits(time, 11, 2);
  const minute = digits(time, 14, 2);
  const second = digits(time, 17, 2);
  if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0 || digits(time, 20, 3) < 0) {
    return false;
  }
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const inRange =
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= (month === 2 && !leap ? 28 : MONTH_DAYS[month]!) &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59;
  if (inRange) lastTimeInRange = time;
  return inRange;
}

/** The decimal number in `text` at `start`, `length` ASCII digits long; -1 if one is not a digit. */
function digits(text: string, start: number, length: number): number {
  let value = 0;
  for (let i = start; i < start + length; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/** `source` and `dataschema` values the SDK accepted or refused, by attribute. */
const acceptedUris = { source: new Map<string, boolean>(), dataschema: new Map<string, boolean>() };

function uriAccepted(name: 'source' | 'dataschema', value: string): boolean {
  const known = acceptedUris[name];
  let accepted = known.get(value);
  if (accepted === undefined) {
    try {
      new CloudEvent({ specversion: '1.0', id: 'x', type: 'x', source: 'x', [name]: value }, true);
      accepted = true;
    } catch {
      accepted = false;
    }
    if (known.size >= ACCEPTED_URIS_MAX) known.clear();
    known.set(value, accepted);
  }
  return accepted;
}

function describe(error: unknown): string {
  if (error && typeof error === 'object' && 'errors' in error && Array.isArray(error.errors)) {
    return error.errors
      .map((e: { instancePath?: string; message?: string }) =>
        `${e.instancePath ?? ''} ${e.message ?? ''}`.trim(),
      )
      .join('; ');
  }
  return error instanceof Error ? error.message : String(error);
}
