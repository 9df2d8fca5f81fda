import type { EventInput } from '@switchyard/core';

/** `count` JSON events numbered from 0, spread over `keys` keys (none if 0). */
export function numbered(
  count: number,
  options: { keys?: number; type?: string; run?: string } = {},
): EventInput<{ n: number; run: string }>[] {
  const keys = options.keys ?? 0;
  const run = options.run ?? '';
  return Array.from({ length: count }, (_, n) => ({
    type: options.type ?? 'com.switchyard.conformance.numbered',
    data: { n, run },
    ...(keys > 0 ? { key: `k${n % keys}` } : {}),
  }));
}

/** Publish in sequential batches (so broker order is publish order) of `size`. */
export async function publishInBatches<T>(
  bus: { publishBatch(topic: string, events: EventInput<T>[]): Promise<unknown[]> },
  topic: string,
  events: EventInput<T>[],
  size = 50,
): Promise<void> {
  for (let i = 0; i < events.length; i += size) await bus.publishBatch(topic, events.slice(i, i + size));
}
