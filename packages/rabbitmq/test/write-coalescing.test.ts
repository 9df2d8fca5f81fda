// amqplib writes each frame to the socket on its own; the connection corks the socket for each turn
// of amqplib's muxer (connection.ts, coalesceWrites), so a turn's frames reach the kernel in one
// writev. This reaches into amqplib's internals: an amqplib upgrade that changes them fails here.
import { afterAll, afterEach, expect, it } from 'vitest';
import { ConnectionManager } from '../src/connection.ts';
import { resolveOptions } from '../src/options.ts';
import { AMQP_URL, filePrefix, unique } from './helpers.ts';
import { sweep } from './sweep.ts';

let connection: ConnectionManager | undefined;
afterEach(() => connection?.close());
// The exchange is never bound, so auto-delete never removes it; a failed run leaves it otherwise.
afterAll(() => sweep(filePrefix));

it('writes the frames of 100 publishes made in one turn in a handful of socket writes', async () => {
  connection = new ConnectionManager(AMQP_URL, resolveOptions({}));
  await connection.start();
  const model = connection.current!;
  const channel = await model.createConfirmChannel();
  const exchange = unique('coalesce');
  await channel.assertExchange(exchange, 'fanout', { durable: false, autoDelete: true });
  const socket = (model as unknown as { connection: { stream: Record<string, unknown> } }).connection.stream;
  let writes = 0;
  for (const name of ['_write', '_writev']) {
    const original = socket[name] as (...args: unknown[]) => unknown;
    socket[name] = function counted(this: unknown, ...args: unknown[]) {
      writes += 1;
      return original.apply(this, args);
    };
  }
  const body = Buffer.alloc(1024);
  const confirms = Array.from(
    { length: 100 },
    () =>
      new Promise<void>((resolve, reject) =>
        channel.publish(exchange, '', body, {}, (error) => (error ? reject(error) : resolve())),
      ),
  );
  await Promise.all(confirms);
  // One write per frame (100) without the cork; corked, a writev per high-water mark's worth at most.
  expect(writes).toBeGreaterThan(0);
  expect(writes).toBeLessThanOrEqual(10);
});
