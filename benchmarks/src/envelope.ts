// What the raw side puts on the wire besides the body.
//
// Every Switchyard event carries its CloudEvents attributes (core's createEvent: specversion, id,
// source, type, time, datacontenttype, correlationid, partitionkey), each broker's binding turning
// them into headers. A raw baseline with one id header measures the envelope as much as the SDK:
// kafkajs with these eight `ce_` headers publishes batches ~40 % slower than with one header. So by
// default the raw side sends the same attributes, in the same binding, and a ratio is the cost of
// Switchyard's code. `--raw-envelope bare` (BENCH_RAW_ENVELOPE=bare) restores the one-id-header
// baseline, to see what the envelope itself costs.
import { randomUUID } from 'node:crypto';
import type { Item } from './driver.ts';

export type RawEnvelope = 'cloudevents' | 'bare';

export const rawEnvelope: RawEnvelope = process.env.BENCH_RAW_ENVELOPE === 'bare' ? 'bare' : 'cloudevents';

/** The attributes Switchyard sends for a bench event (`type: 'bench.event'`, `data: Uint8Array`). */
export function attributes(item: Item): Record<string, string> {
  const id = randomUUID();
  return {
    specversion: '1.0',
    id,
    source: 'bench',
    type: 'bench.event',
    time: new Date().toISOString(),
    datacontenttype: 'application/octet-stream',
    correlationid: id,
    partitionkey: item.key,
  };
}

/**
 * Header name → value under `prefix` (binary content mode), datacontenttype as the header
 * `contentType`, or left out where the binding carries it as a message property (`undefined`).
 */
export function binaryHeaders(
  item: Item,
  prefix: string,
  contentType: string | undefined,
): { id: string; headers: Record<string, string> } {
  const all = attributes(item);
  if (rawEnvelope === 'bare') return { id: all.id!, headers: { id: all.id! } };
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(all)) {
    if (name !== 'datacontenttype') headers[prefix + name] = value;
    else if (contentType !== undefined) headers[contentType] = value;
  }
  return { id: all.id!, headers };
}
