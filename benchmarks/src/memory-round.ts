// One round of the memory:// pipeline (memory-pipeline.ts), against the core it is handed: 1 KiB
// JSON events through handle() with concurrency 16, retry, dead-letter, idempotency (memory store)
// and a timeout. Events are published first; the consumer is timed from subscribe to the last ack.
import type * as Core from '../../packages/core/src/index.ts';

const payload = { pad: 'x'.repeat(1024 - 40), n: 0 };
const KEYS = 1_024;
const BATCH = 1_000;

export interface RoundResult {
  /** publishBatch, events/s. */
  readonly publish: number;
  /** From subscribe to the last ack, events/s. */
  readonly consume: number;
  /** Events consumed per second of this process's CPU time (user + system) while consuming. */
  readonly perCpuSecond: number;
}

/** Called around the timed consume phase (memory-pipeline.ts profiles it with MEMORY_PROFILE). */
export interface RoundHooks {
  readonly consumeStarts?: () => Promise<void>;
  readonly consumeEnded?: () => Promise<void>;
}

export async function memoryRound(
  core: typeof Core,
  name: string,
  events: number,
  hooks: RoundHooks = {},
): Promise<RoundResult> {
  const { connect, exponentialBackoff, handle, memoryIdempotencyStore } = core;
  const bus = await connect({ url: `memory://bench-${name}`, source: 'bench' });
  await bus.provision('bench', { groups: ['g'] });

  let start = performance.now();
  for (let i = 0; i < events; i += BATCH) {
    const batch = [];
    for (let j = i; j < Math.min(events, i + BATCH); j++) {
      batch.push({ type: 'bench.event', data: { ...payload, n: j }, key: `k-${j % KEYS}` });
    }
    await bus.publishBatch('bench', batch);
  }
  const publish = events / ((performance.now() - start) / 1_000);

  let handled = 0;
  let acked = 0;
  let others = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  await hooks.consumeStarts?.();
  const cpuBefore = process.cpuUsage();
  start = performance.now();
  const subscription = bus
    .consume<typeof payload>('bench', { group: 'g', prefetch: 256 })
    .pipe(
      handle(
        (event) => {
          if (event.data.n >= 0) handled += 1;
        },
        {
          concurrency: 16,
          timeoutMs: 5_000,
          retry: { maxAttempts: 3, backoff: exponentialBackoff({ initialMs: 10, maxMs: 100 }) },
          deadLetter: { topic: 'bench.dlq' },
          idempotency: { store: memoryIdempotencyStore({ ttlMs: 60_000, maxEntries: events }) },
        },
      ),
    )
    .subscribe((o) => {
      if (o.kind !== 'acked') others += 1;
      else if (++acked === events) done();
    });
  await finished;
  const consume = events / ((performance.now() - start) / 1_000);
  const cpu = process.cpuUsage(cpuBefore);
  await hooks.consumeEnded?.();
  const perCpuSecond = events / ((cpu.user + cpu.system) / 1e6);
  if (handled !== events || others !== 0)
    throw new Error(`handled ${handled} of ${events}, ${others} not acked`);
  subscription.unsubscribe();
  await bus.close({ drainTimeoutMs: 1_000 });
  return { publish, consume, perCpuSecond };
}
