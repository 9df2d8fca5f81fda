// What a member gives back when it stops must reach the next member at once, not after ack_wait.
// nats-server 2.9.10 loses a redelivery it takes up while its only waiting pull requests are ones
// whose inbox is gone (a stopped member's, until the server notices): the message stays leased to
// nobody until ack_wait, and the stream's last delivered sequence goes out again with count 1.
// Each case gives back while no other member has a pull open, which is when that happens.

import { connect, handle } from '@switchyard/core';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { Collector, Fixture, message, NATS_URL, unique, until } from './helpers.ts';

// A give-back the server lost comes back only after this ack_wait. The default pull expiry: the server
// also notices a gone pull request on the request's heartbeat (half of it), after the cases here.
const OPTIONS = { ackWaitMs: 30_000, pullExpiresMs: 10_000 };
const PROMPTLY_MS = 5_000;

let fixture: Fixture;
beforeEach(() => {
  fixture = new Fixture();
});
afterEach(async () => {
  await fixture.close();
});

/** Two transports on one new topic and group: the member that leaves, and the next one. */
async function twoMembers() {
  const [leavingTransport, nextTransport] = await Promise.all([
    fixture.transport(OPTIONS),
    fixture.transport(OPTIONS),
  ]);
  const topic = fixture.topic();
  const group = unique('g');
  await leavingTransport.provision(topic, group);
  return { leavingTransport, nextTransport, topic, group };
}

it('bus.close() past its deadline: what it gave back reaches the next member promptly, each once', async () => {
  const topic = fixture.topic();
  const group = unique('g');
  const leaving = await connect({ url: NATS_URL, source: 'leaving', nats: OPTIONS });
  await leaving.provision(topic, { groups: [group] });
  let started = 0;
  // Handlers that never finish, and room left under prefetch: the member's pull stays open.
  leaving
    .consume(topic, { group, prefetch: 64 })
    .pipe(
      handle(
        async () => {
          started++;
          await new Promise(() => {});
        },
        { concurrency: 8, timeoutMs: 600_000 },
      ),
    )
    .subscribe();
  const sent = await leaving.publishBatch(
    topic,
    [0, 1, 2].map((n) => ({ type: 'give-back.test', data: n })),
  );
  await until(() => started === 3);
  await leaving.close({ drainTimeoutMs: 100 });

  const next = await connect({ url: NATS_URL, source: 'next', nats: OPTIONS });
  try {
    const handled: { id: string; attempt: number }[] = [];
    next
      .consume(topic, { group })
      .pipe(handle((event, { attempt }) => void handled.push({ id: event.id, attempt })))
      .subscribe();
    await vi.waitFor(
      () => {
        if (handled.length < 3) throw new Error(`${handled.length} of 3 given back redelivered`);
      },
      { timeout: PROMPTLY_MS, interval: 20 },
    );
    // A copy sent again would arrive just after the redeliveries.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(handled.map((h) => h.id).sort()).toEqual(sent.map((e) => e.id).sort());
    expect(handled.map((h) => h.attempt)).toEqual([2, 2, 2]);
  } finally {
    await next.close({ drainTimeoutMs: 1_000 });
  }
});

it('unsubscribe, then nack: the next member gets the messages promptly, each once', async () => {
  const { leavingTransport, nextTransport, topic, group } = await twoMembers();
  const leaving = new Collector(leavingTransport, topic, { group, prefetch: 8 });
  const sent = Array.from({ length: 3 }, () => message());
  await leavingTransport.publish(topic, sent);
  const held = await leaving.atLeast(3);
  // As core does when a member leaves: leave first, then give back what it had not handled.
  leaving.unsubscribe();
  await Promise.all(held.map((d) => d.nack()));

  const next = new Collector(nextTransport, topic, { group }, (d) => d.ack());
  try {
    await next.atLeast(3, PROMPTLY_MS);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(next.ids().sort()).toEqual(sent.map((m) => m.headers.id).sort());
    expect(next.deliveries.map((d) => d.attempt)).toEqual([2, 2, 2]);
  } finally {
    next.unsubscribe();
  }
});

it('messages on their way to a member that unsubscribes reach the next member promptly, each once', async () => {
  const { leavingTransport, nextTransport, topic, group } = await twoMembers();
  const acked = new Set<string>();
  const sent = Array.from({ length: 200 }, () => message());
  await leavingTransport.publish(topic, sent);
  // Leave on the first delivery: the rest of the batch is still on its way to this member.
  const leaving: Collector = new Collector(leavingTransport, topic, { group, prefetch: 256 }, async (d) => {
    if (leaving.deliveries.length === 1) leaving.unsubscribe();
    await d.ack();
    acked.add(String(d.message.headers.id));
  });
  await leaving.atLeast(1);
  // Let the leaving member's ack and give-backs go out; no consumer info meanwhile (it would make
  // the server drop the gone pull request, hiding the case).
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(acked.size).toBe(1);

  const next = new Collector(nextTransport, topic, { group, prefetch: 256 }, (d) => d.ack());
  try {
    await next.atLeast(sent.length - acked.size, PROMPTLY_MS);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(next.deliveries.length + acked.size).toBe(sent.length);
    expect(new Set([...acked, ...next.ids()])).toEqual(new Set(sent.map((m) => m.headers.id)));
  } finally {
    next.unsubscribe();
  }
});
