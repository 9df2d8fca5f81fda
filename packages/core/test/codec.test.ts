import { describe, expect, it, vi } from 'vitest';
import { copyWire, decode, encode, encodeChecked } from '../src/codec.ts';
import { DecodeError, InvalidEventError } from '../src/errors.ts';
import { createEvent } from '../src/event.ts';
import { encodedSize, type WireMessage } from '../src/transport.ts';

describe('codec', () => {
  it('round-trips JSON data and every attribute', () => {
    const event = createEvent(
      {
        type: 'com.acme.order.placed',
        data: { orderId: 'o-1', total: 9.5 },
        key: 'o-1',
        subject: 's',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        extensions: { dataversion: '2' },
      },
      'test',
    );
    const back = decode(encode(event));
    expect(back).toEqual(event);
    expect(back.correlationid).toBe(event.id);
  });

  it('round-trips every byte value and empty binary data byte-exact', () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const event = createEvent({ type: 't', data: bytes }, 'test');
    expect(Array.from(decode<Uint8Array>(encode(event)).data)).toEqual(Array.from(bytes));
    const empty = createEvent({ type: 't', data: new Uint8Array(0) }, 'test');
    const decoded = decode<Uint8Array>(encode(empty)).data;
    expect(decoded).toBeInstanceOf(Uint8Array);
    expect(decoded.byteLength).toBe(0);
  });

  it('decodes the JSON text a message was encoded from only while its body is the one encoded', () => {
    const event = createEvent({ type: 't', data: { a: 'é', n: 1 } }, 'test');
    const copy = copyWire(encode(event));
    expect(decode(copy)).toEqual(event);
    expect(copy.headers).toEqual(encode(event).headers);
    // A body put in the encoded one's place is decoded from its bytes, not from the kept text.
    const replaced = copyWire(encode(event)) as { body: Uint8Array };
    replaced.body = new TextEncoder().encode('{"other":2}');
    expect(decode(replaced as never).data).toEqual({ other: 2 });
    expect(decode({ ...encode(event), body: new TextEncoder().encode('[3]') }).data).toEqual([3]);
  });

  it('makes the bytes of a JSON event when read: the same bytes, sized exactly before, kept by a spread', () => {
    const data = { a: 'é€𝄞', pad: 'x'.repeat(100), n: 1 };
    const expected = new TextEncoder().encode(JSON.stringify(data));
    const event = createEvent({ type: 't', data }, 'test');
    const headerBytes = (message: WireMessage) =>
      Object.entries(message.headers).reduce(
        (sum, [name, value]) => sum + Buffer.byteLength(name) + Buffer.byteLength(value),
        0,
      );
    // Encoded, sized, copied as memory:// keeps it and decoded again: no bytes made on the way.
    const encoding = vi.spyOn(TextEncoder.prototype, 'encode');
    const fresh = encodeChecked(event);
    // Sized from the text: UTF-8, not UTF-16 units (é, € and 𝄞 are 2, 3 and 4 bytes).
    expect(encodedSize(fresh)).toBe(expected.byteLength + headerBytes(fresh));
    expect(decode(copyWire(fresh))).toEqual(event);
    expect(encoding).not.toHaveBeenCalled();
    encoding.mockRestore();
    expect(fresh.body).toEqual(expected);
    expect(fresh.body).toBe(fresh.body);
    expect(encodedSize(fresh)).toBe(expected.byteLength + headerBytes(fresh));
    // What memory:// keeps: a copy with its own bytes, not the original's.
    const kept = copyWire(fresh);
    expect(kept.body).toEqual(expected);
    expect(kept.body).not.toBe(fresh.body);
    // A spread or a structured clone is a plain message that still has the bytes.
    const spread = { ...copyWire(fresh), headers: { ...fresh.headers, extra: 'x' } };
    expect(spread.body).toEqual(expected);
    expect(decode(spread).data).toEqual(data);
    expect(structuredClone(copyWire(fresh)).body).toEqual(expected);
  });

  it('trusts only the frozen headers of a validated event, not headers put in their place', () => {
    const event = createEvent({ type: 't', data: { n: 1 }, key: 'k' }, 'test');
    const checked = encodeChecked(event);
    expect(Object.isFrozen(checked.headers)).toBe(true);
    expect(decode(copyWire(checked))).toEqual(event);
    const swapped = encodeChecked(event) as { headers: Record<string, string> };
    swapped.headers = { ...swapped.headers, subject: 'a\r\nX-Injected: 1' };
    expect(() => decode(copyWire(swapped as never))).toThrow(DecodeError);
    // encode() of an event nobody validated is checked when decoded.
    const unchecked = encode({ ...event, type: 'bad\u0001' });
    expect(() => decode(copyWire(unchecked))).toThrow(DecodeError);
  });

  it('keeps an event without data without data', () => {
    const event = createEvent({ type: 't' }, 'test');
    expect(decode(encode(event)).data).toBeUndefined();
  });

  it('refuses extension names and values that could inject headers', () => {
    expect(() => createEvent({ type: 't', extensions: { 'x-evil': 'a' } }, 'src')).toThrow(InvalidEventError);
    expect(() => createEvent({ type: 't', extensions: { Upper: 'a' } }, 'src')).toThrow(InvalidEventError);
    expect(() => createEvent({ type: 't', subject: 'a\r\nX-Injected: 1' }, 'src')).toThrow(InvalidEventError);
    expect(() => createEvent({ type: '' }, 'src')).toThrow(InvalidEventError);
  });

  it('checks time, source and dataschema as the CloudEvents spec says, fast path or not', () => {
    for (const time of ['2020-13-01T00:00:00.000Z', '2021-02-29T00:00:00.000Z', 'yesterday', '2020-01-01'])
      expect(() => createEvent({ type: 't', time }, 'src'), time).toThrow(InvalidEventError);
    for (const time of ['2020-01-01T00:00:00+01:00', '2020-02-29T23:59:59.5Z', '2020-01-01T10:00:00.123Z'])
      expect(createEvent({ type: 't', time }, 'src').time).toBe(time);
    expect(() => createEvent({ type: 't', dataschema: 'no scheme' }, 'src')).toThrow(InvalidEventError);
    expect(() => createEvent({ type: 't', source: 'has space' }, 'src')).toThrow(InvalidEventError);
    expect(() => createEvent({ type: 't', subject: '' }, 'src')).toThrow(InvalidEventError);
    expect(() => createEvent({ type: 't', extensions: { schemaurl: 'http://x' } }, 'src')).toThrow(
      InvalidEventError,
    );
    expect(createEvent({ type: 't', dataschema: 'https://example.com/s.json' }, 'urn:a:b').source).toBe(
      'urn:a:b',
    );
  });

  it('refuses an attribute that is not a string instead of sending the event without it', () => {
    // From plain JavaScript or parsed JSON: a number key was dropped from the headers on memory://
    // and SQS (so the event lost its ordering key) and failed with a raw TypeError on Kafka,
    // RabbitMQ and NATS.
    for (const input of [
      { type: 't', key: 5 },
      { type: 't', subject: 5 },
      { type: 't', correlationid: {} },
      { type: 't', traceparent: 1 },
    ]) {
      expect(() => createEvent(input as never, 'src'), JSON.stringify(input)).toThrow(InvalidEventError);
      expect(() => createEvent(input as never, 'src'), JSON.stringify(input)).toThrow(/must be a string/);
    }
  });

  it('refuses data JSON cannot encode with InvalidEventError, not a bare TypeError', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    for (const data of [{ n: 10n }, circular, () => 1]) {
      const event = createEvent({ type: 't', data }, 'src');
      expect(() => encode(event)).toThrow(InvalidEventError);
      expect(() => encode(event)).toThrow(/cannot be encoded as JSON/);
    }
  });

  it('throws DecodeError for bytes that are not an event', () => {
    expect(() => decode({ headers: {}, body: new Uint8Array([1, 2]) })).toThrow(DecodeError);
    const event = createEvent({ type: 't', data: { a: 1 } }, 'test');
    const wire = encode(event);
    expect(() => decode({ ...wire, body: new TextEncoder().encode('{not json') })).toThrow(DecodeError);
    expect(() => decode({ ...wire, headers: { ...wire.headers, id: '' } })).toThrow(DecodeError);
  });

  it('throws DecodeError naming the version for a specversion other than 1.0', () => {
    const wire = encode(createEvent({ type: 't', data: { a: 1 } }, 'test'));
    for (const specversion of ['9.9', '0.3', '1.0 ', '']) {
      expect(() => decode({ ...wire, headers: { ...wire.headers, specversion } })).toThrow(/specversion/);
      expect(() => decode({ ...wire, headers: { ...wire.headers, specversion } })).toThrow(DecodeError);
    }
  });
});
