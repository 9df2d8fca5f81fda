import type { WireMessage } from '@switchyard/core';
import { encodedSize } from '@switchyard/core/transport';
import { describe, expect, it } from 'vitest';
import { fromHeaderMap, fromRecord, recordSize, toRecord } from '../src/binding.ts';

const message: WireMessage = {
  headers: {
    specversion: '1.0',
    id: 'e-1',
    type: 'com.acme.order.placed',
    source: 'billing',
    datacontenttype: 'application/json',
    partitionkey: 'o-42',
    correlationid: 'e-1',
  },
  body: new TextEncoder().encode('{"total":99.5}'),
  key: 'o-42',
};

describe('CloudEvents Kafka binding, binary content mode', () => {
  it('writes ce_ headers, content-type for datacontenttype, the key, and the body unchanged', () => {
    const record = toRecord(message);
    expect(record.key).toBe('o-42');
    expect(record.headers).toMatchObject({
      ce_specversion: '1.0',
      ce_id: 'e-1',
      ce_type: 'com.acme.order.placed',
      'content-type': 'application/json',
      ce_partitionkey: 'o-42',
    });
    expect(record.headers).not.toHaveProperty('ce_datacontenttype');
    expect(Buffer.compare(record.value as Buffer, Buffer.from(message.body))).toBe(0);
  });

  it('reads back exactly what it wrote', () => {
    const record = toRecord(message);
    const headers = Object.fromEntries(
      Object.entries(record.headers ?? {}).map(([k, v]) => [k, Buffer.from(String(v))]),
    );
    const back = fromRecord({ key: Buffer.from('o-42'), value: record.value as Buffer, headers });
    expect(back.headers).toEqual(message.headers);
    expect(back.key).toBe('o-42');
    expect([...back.body]).toEqual([...message.body]);
  });

  it("keeps a foreign producer's record: no ce_ headers, no key, null value", () => {
    const back = fromRecord({ key: null, value: null, headers: { 'x-trace': Buffer.from('t') } });
    expect(back).toEqual({ headers: {}, body: new Uint8Array(0), key: undefined });
  });

  it('reads a header Map (the platformatic driver) as it reads a header object, body copied', () => {
    const record = toRecord(message);
    const headers = new Map(
      Object.entries(record.headers ?? {}).map(([k, v]) => [k, Buffer.from(String(v))]),
    );
    headers.set('x-trace', Buffer.from('foreign'));
    headers.set('CE_Extra', Buffer.from('upper-case name'));
    const value = record.value as Buffer;
    const back = fromHeaderMap(headers, Buffer.from('o-42'), value);
    expect(back.headers).toEqual({ ...message.headers, extra: 'upper-case name' });
    expect(back.key).toBe('o-42');
    expect([...back.body]).toEqual([...message.body]);
    // Not a view of the fetched bytes: the fetch response must be free to go.
    expect(back.body.buffer).not.toBe(value.buffer);
    expect(fromHeaderMap(new Map(), null, null)).toEqual({
      headers: {},
      body: new Uint8Array(0),
      key: undefined,
    });
  });

  it('bounds the record size above encodedSize', () => {
    expect(recordSize(message)).toBeGreaterThan(encodedSize(message));
  });
});
