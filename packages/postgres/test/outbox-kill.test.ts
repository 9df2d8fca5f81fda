// The relay SIGKILLed 5 times during a large run, into each broker: every committed id reaches the
// broker, nothing else does, duplicates are only re-sends of an id, and per key the first arrivals
// keep the commit order. The relay runs in a child process (memory:// lives in one process, so
// it has no case here; the in-process cases in outbox.test.ts cover it).
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  launchPrivatePostgres,
  type PgTestSchema,
  type PrivatePostgres,
  pgTestSchema,
} from '@switchyard/conformance';
import type { Bus } from '@switchyard/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgOutbox } from '../src/index.ts';
import {
  firstArrivals,
  openBus,
  receive,
  sweepTopics,
  TARGETS,
  topicName,
  until,
  writeEvents,
} from './outbox-helpers.ts';

const child = fileURLToPath(new URL('./fixtures/relay-child.ts', import.meta.url));

/**
 * Events per broker, sized so each case stays near a minute on this 2-core machine: 100 000 where
 * the broker takes them that fast (Kafka, NATS), fewer on RabbitMQ and the SQS emulator.
 */
const EVENTS: Record<string, number> = { kafka: 100_000, nats: 100_000, rabbitmq: 40_000, sqs: 10_000 };
const KILLS = 5;

let server: PrivatePostgres;
let schema: PgTestSchema;
beforeAll(async () => {
  server = await launchPrivatePostgres();
  schema = await pgTestSchema(server.url);
});
afterAll(async () => {
  await schema?.drop();
  await server?.stop();
});

describe.each(TARGETS.filter((t) => t.name !== 'memory'))('outbox relay SIGKILLed into $name', (target) => {
  const topics: string[] = [];
  let consumer: Bus | undefined;
  const children = new Set<ChildProcess>();
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await consumer?.close({ drainTimeoutMs: 1_000 });
    await sweepTopics(target, topics);
  });

  const startRelay = async (table: string) => {
    const proc = spawn(
      process.execPath,
      ['--conditions=@switchyard/source', child, server.url, schema.schema, table, target.url],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.add(proc);
    proc.on('exit', () => children.delete(proc));
    await new Promise<void>((resolve, reject) => {
      proc.stdout!.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('STARTED')) resolve();
      });
      proc.once('exit', (code) => reject(new Error(`relay child exited with ${code}`)));
    });
    return proc;
  };

  it(`delivers every committed id through ${KILLS} kills`, { timeout: 180_000 }, async () => {
    const total = EVENTS[target.name]!;
    const topic = topicName('kill');
    topics.push(topic);
    const table = `kill_${target.name}`;
    const outbox = pgOutbox({ pool: schema.pool, table, source: 'outbox-kill-test' });
    await outbox.migrate();
    consumer = await openBus(target, 'outbox-kill-consumer');
    const received = await receive(consumer, topic);

    let relay = await startRelay(table);
    const writing = writeEvents(schema.pool, outbox, topic, { total, perTx: 100, writers: 8, keys: 1_000 });
    // Kill when the broker has seen each sixth of the run: the kills land while events flow.
    for (let kill = 1; kill <= KILLS; kill++) {
      await until(() => received.distinct.size >= (total * kill) / (KILLS + 1), 120_000, `kill ${kill}`);
      relay.kill('SIGKILL');
      await new Promise((resolve) => relay.once('exit', resolve));
      relay = await startRelay(table);
    }
    const written = await writing;
    await until(() => received.distinct.size >= total, 120_000, `all ${total} events`);
    relay.kill('SIGKILL');

    const committed = new Set(written.ids);
    expect(committed.size).toBe(total);
    expect([...committed].filter((id) => !received.distinct.has(id))).toEqual([]);
    expect([...received.distinct].filter((id) => !committed.has(id))).toEqual([]);
    if (consumer.transport.capabilities.keyOrderWithinMember) {
      for (const [key, ids] of written.byKey)
        expect(firstArrivals(received.byKey.get(key) ?? [])).toEqual(ids);
    }
    console.log(
      `${target.name}: ${total} committed, ${received.ids.length - received.distinct.size} re-sent duplicates after ${KILLS} kills`,
    );
    received.stop();
  });
});
