// A member that leaves while messages are on their way to it must give them back at once, not leave
// them leased to nobody until ack_wait.

import { afterEach, beforeEach, expect, it } from 'vitest';
import { Collector, Fixture, message, unique } from './helpers.ts';

let fixture: Fixture;
beforeEach(() => {
  fixture = new Fixture();
});
afterEach(async () => {
  await fixture.close();
});

it('leaves nothing leased after unsubscribing mid-flow (5 members leave while 50-message batches keep coming)', async () => {
  // ack_wait far above the test's own waits: a message stranded on a member that left stays ack-pending.
  const transport = await fixture.transport({ ackWaitMs: 60_000 });
  const topic = fixture.topic();
  const group = unique('g');
  await transport.provision(topic, group);
  let publishing = true;
  const flow = (async () => {
    while (publishing)
      await transport.publish(
        topic,
        Array.from({ length: 50 }, () => message()),
      );
  })();
  const stayingAcked = new Set<string>();
  const staying = new Collector(transport, topic, { group, prefetch: 8 }, async (d) => {
    await d.ack();
    stayingAcked.add(String(d.message.headers.id));
  });
  try {
    for (let round = 0; round < 5; round++) {
      const leaving = new Collector(transport, topic, { group, prefetch: 64 }, (d) => d.ack());
      await leaving.atLeast(100);
      leaving.unsubscribe();
      await leaving.settled();
    }
  } finally {
    publishing = false;
    await flow;
  }
  // What is still pending is on its way to the staying member; held by a member that left, it
  // would stay ack-pending without progress.
  const deadline = Date.now() + 10_000;
  let info = await fixture.consumerInfo(topic, group);
  while (info.num_pending + info.num_ack_pending > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    info = await fixture.consumerInfo(topic, group);
  }
  staying.unsubscribe();
  expect({ pending: info.num_pending, ackPending: info.num_ack_pending }).toEqual({
    pending: 0,
    ackPending: 0,
  });
});
