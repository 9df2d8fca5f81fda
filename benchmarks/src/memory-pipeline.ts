// Throughput of memory:// through handle() with every policy on: 1 KiB JSON events, concurrency 16,
// retry, dead-letter, idempotency (memory store) and a timeout. One process, so one core.
// Events are published first (that rate is printed too), then the consumer is timed from subscribe
// until the last event is acked.
//   node --conditions=@switchyard/source benchmarks/src/memory-pipeline.ts [events] [rounds]
import {
  connect,
  exponentialBackoff,
  handle,
  memoryIdempotencyStore,
} from '../../packages/core/src/index.ts';

const events = Number(process.argv[2] ?? 200_000);
const rounds = Number(process.argv[3] ?? 3);
const payload = { pad: 'x'.repeat(1024 - 40), n: 0 };
const KEYS = 1_024;
const BATCH = 1_000;

async function round(name: string): Promise<{ publish: number; consume: number }> {
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
  if (handled !== events || others !== 0)
    throw new Error(`handled ${handled} of ${events}, ${others} not acked`);
  subscription.unsubscribe();
  await bus.close({ drainTimeoutMs: 1_000 });
  return { publish, consume };
}

const fmt = (n: number) => Math.round(n).toLocaleString('en');
const consumed: number[] = [];
for (let r = 0; r < rounds; r++) {
  const { publish, consume } = await round(String(r));
  consumed.push(consume);
  console.log(`round ${r + 1}: handle() ${fmt(consume)} events/s (publishBatch ${fmt(publish)} events/s)`);
}
consumed.sort((a, b) => a - b);
console.log(
  `memory:// through handle(), all policies, ${events} × 1 KiB JSON, concurrency 16: median ${fmt(
    consumed[Math.floor(consumed.length / 2)]!,
  )} events/s`,
);
