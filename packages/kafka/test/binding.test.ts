import type { WireMessage } from '@switchyard/core';
import { encodedSize } from '@switchyard/core/transport';
import { describe, expect, it } from 'vitest';
import { fromRecord, recordSize, toRecord } from '../src/binding.ts';

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

  it('bounds the record size above encodedSize', () => {
    expect(recordSize(message)).toBeGreaterThan(encodedSize(message));
  });
});
