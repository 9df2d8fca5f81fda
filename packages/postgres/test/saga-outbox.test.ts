// #22: a saga instance SIGKILLed between its state commit and the publish of its command still
// gets the command delivered, because pgSagaStore wrote it to the outbox in the same transaction
// and the relay sends it after the crash.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  launchPrivatePostgres,
  type PgTestSchema,
  type PrivatePostgres,
  pgTestSchema,
} from '@switchyard/conformance';
import type { Bus } from '@switchyard/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OutboxRelay, outboxRelay, pgOutbox } from '../src/index.ts';
import { openBus, receive, sweepTopics, TARGETS, topicName, until } from './outbox-helpers.ts';

const child = fileURLToPath(new URL('./fixtures/saga-child.ts', import.meta.url));
// The saga runs in a child process, so the broker must be a real one; NATS starts consumers fastest.
const target = TARGETS.find((t) => t.name === 'nats')!;

let server: PrivatePostgres;
let schema: PgTestSchema;
const topics: string[] = [];
const buses: Bus[] = [];
let relay: OutboxRelay | undefined;
beforeAll(async () => {
  server = await launchPrivatePostgres();
  schema = await pgTestSchema(server.url);
});
afterAll(async () => {
  await relay?.close({ drainTimeoutMs: 1_000 });
  await Promise.all(buses.map((b) => b.close({ drainTimeoutMs: 1_000 })));
  await sweepTopics(target, topics);
  await schema?.drop();
  await server?.stop();
});

describe('pgSagaStore with pgOutbox', () => {
  it('SIGKILL between the saga state commit and the publish: the command is still delivered', {
    timeout: 60_000,
  }, async () => {
    const inTopic = topicName('saga-in');
    const outTopic = topicName('saga-out');
    topics.push(inTopic, outTopic);
    const bus = await openBus(target, 'saga-outbox-test');
    buses.push(bus);
    await bus.provision(inTopic, { groups: ['saga'] });
    const commands = await receive(bus, outTopic);
    await pgOutbox({ pool: schema.pool, source: 'saga-outbox-test' }).migrate();

    const proc = spawn(
      process.execPath,
      ['--conditions=@switchyard/source', child, server.url, schema.schema, target.url, inTopic, outTopic],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    proc.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      proc.once('exit', (_code, signal) => resolve(signal)),
    );
    await until(() => out.includes('SUBSCRIBED'), 30_000, 'the saga child to subscribe');
    await bus.publish(inTopic, { type: 'order.placed', data: { orderId: 'o-1' } });

    // The child killed itself right after the commit, before runSaga could dispatch anything.
    expect(await exited).toBe('SIGKILL');
    const committed = JSON.parse(/COMMITTED (.*)/.exec(out)![1]!) as string[];
    expect(committed).toHaveLength(1);
    const state = await schema.pool.query(
      `select state from sy_sagas where saga = 'order' and correlation_id = 'o-1'`,
    );
    expect(state.rows[0].state).toEqual({ status: 'charging' });
    const stored = await schema.pool.query('select event_id from sy_outbox');
    expect(stored.rows.map((r) => r.event_id)).toEqual(committed);
    expect(commands.ids).toEqual([]);

    // After the crash, a relay (any process) sends it, with the id the saga committed.
    relay = outboxRelay({ pool: schema.newPool(20), bus, pollMs: 100 });
    await until(() => commands.ids.length >= 1, 20_000, 'the command on the broker');
    expect(commands.ids).toEqual(committed);
    commands.stop();
  });
});
