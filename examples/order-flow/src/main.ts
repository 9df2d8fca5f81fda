// `pnpm demo`: run the order flow on $BROKER_URL (default memory://) and print what happened.
// With DATABASE_URL the state lives in PostgreSQL, in a schema of its own that is dropped after.
// Exits 0 only when every order ended as it should.
import { randomBytes } from 'node:crypto';
import { styleText } from 'node:util';
import { pgTestSchema } from '@switchyard/conformance';
import { removeRunTopics } from './cleanup.ts';
import { runOrderFlow, SCENARIO } from './flow.ts';
import { paintStatus, renderSummaries, renderTimeline } from './timeline.ts';

const url = process.env.BROKER_URL ?? 'memory://';
// Named here, so a run that fails still removes its topics.
const runId = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
const dim = (text: string) => styleText('dim', text);
const timeoutMs = process.env.ORDER_FLOW_TIMEOUT_MS ? Number(process.env.ORDER_FLOW_TIMEOUT_MS) : undefined;

console.log(
  styleText(
    'bold',
    'Switchyard order flow: orders, inventory and payments, coordinated by a checkout process manager',
  ),
);
for (const { order, story } of SCENARIO) console.log(`  ${order.orderId}  ${story}`);
console.log('');

// With DATABASE_URL: a schema of this run's own (sy_test_<random>, as the tests make them), dropped
// at the end. pg is loaded only then: the memory demo needs no PostgreSQL client.
const database = process.env.DATABASE_URL ? await pgTestSchema(process.env.DATABASE_URL) : undefined;

try {
  const result = await runOrderFlow({
    url,
    runId,
    ...(timeoutMs ? { timeoutMs } : {}),
    ...(database ? { postgres: database } : {}),
    log: (message) => console.log(dim(`- ${message}`)),
  });
  console.log('');
  console.log(
    dim(
      'Per order (grouped by correlation id): ms since the order was placed, the service, what happened,\n' +
        'the event id and, after "<-", the id of the event that caused it (first 8 characters).\n',
    ),
  );
  console.log(renderTimeline(result.entries));
  console.log(
    `${styleText('bold', 'Read model')} order-summary, queried after the flow ` +
      dim('(a projection of the order streams):'),
  );
  console.log(renderSummaries(result.summaries));
  console.log('');

  const c = result.counts;
  console.log(
    `${styleText('bold', 'Summary')} on ${result.url}, state in ${result.storage}, in ${result.elapsedMs} ms: ` +
      `${c.confirmed} ${paintStatus('confirmed')}, ${c.cancelled} ${paintStatus('cancelled')}, ` +
      `${c.deadLettered} ${paintStatus('dead-lettered')}` +
      (c.pending ? `, ${c.pending} ${paintStatus('pending')}` : '') +
      ` (${c.retries} retried, ${c.timeouts} payment timeout, ${c.compensations} compensations, ` +
      `${c.duplicatesSkipped} duplicate skipped` +
      (c.duplicatesDroppedByBroker
        ? `, ${c.duplicatesDroppedByBroker} dropped by the broker, which de-duplicates by id`
        : '') +
      ')',
  );
  console.log(
    `Outbox: ${result.outbox.relayed} messages relayed to the broker, ${result.outbox.backlog} left. ` +
      `Stock left: ${Object.entries(result.stock)
        .map(([sku, units]) => `${sku} ${units}`)
        .join(', ')}`,
  );
  if (result.ok) {
    console.log(styleText('green', 'Every order ended as expected.'));
  } else {
    console.log(styleText('red', 'NOT the expected final state:'));
    for (const problem of result.problems) console.log(`  - ${problem}`);
    process.exitCode = 1;
  }
} catch (error) {
  console.error(
    styleText('red', `order flow failed: ${(error as Error).message}`, { stream: process.stderr }),
  );
  const cause = (error as Error).cause;
  if (cause) console.error(`  cause: ${(cause as Error).message ?? String(cause)}`);
  process.exitCode = 1;
}
const removed = await removeRunTopics(url, runId);
if (removed) console.log(dim(`- ${removed}`));
if (database) {
  await database.drop();
  console.log(dim(`- dropped PostgreSQL schema ${database.schema}`));
}

// Every bus is closed by now, so the process ends by itself. If a transport leaves a handle open,
// say so and exit rather than hang (unref: this timer alone never keeps the process alive).
setTimeout(() => {
  console.error('order flow: still running 10 s after finishing; a connection was left open');
  process.exit(process.exitCode || 1);
}, 10_000).unref();
