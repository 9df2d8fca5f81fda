// nats-server 2.9 sometimes sends a member a stream message a second time with delivery count 1
// while the member still holds the first delivery (seen under member churn, see the README). The
// member must not hand it to its handlers twice, nor nak it (another member would get it while
// this one handles it); a genuine redelivery (a higher count) still goes through. No broker: the
// server's side is a scripted consumer.
import type { JsMsg } from '@nats-io/jetstream';
import type { TransportDelivery } from '@switchyard/core/transport';
import { Subscriber } from 'rxjs';
import { expect, it } from 'vitest';
import type { Connection } from '../src/connection.ts';
import { PullSubscription } from '../src/consumer.ts';
import { resolveOptions } from '../src/options.ts';
import type { Topology } from '../src/topology.ts';

function message(seq: number, deliveryCount: number, naks: number[]): JsMsg {
  return {
    seq,
    data: new Uint8Array([seq]),
    headers: undefined,
    info: { deliveryCount },
    nak: () => void naks.push(seq),
    ackAck: async () => true,
    working: () => {},
  } as unknown as JsMsg;
}

it('a message sent again while held (count not risen) is neither handed out twice nor nak’d', async () => {
  const naks: number[] = [];
  // Pull 1: seq 1 and 2; pull 2: seq 1 again with count 1 (the server's resend), seq 2 redelivered
  // with count 2 (a genuine redelivery), seq 3; then nothing more.
  const pulls = [
    [message(1, 1, naks), message(2, 1, naks)],
    [message(1, 1, naks), message(2, 2, naks), message(3, 1, naks)],
  ];
  const consumer = {
    info: async () => ({ config: { ack_wait: 30_000_000_000 } }),
    fetch: async () => {
      const batch = pulls.shift() ?? [];
      return {
        close: async () => {},
        async *[Symbol.asyncIterator]() {
          for (const msg of batch) yield msg;
          if (batch.length === 0) await new Promise(() => {});
        },
      };
    },
  };
  const connection = {
    epoch: 1,
    connected: true,
    closed: false,
    on: () => () => {},
    js: { consumers: { get: async () => consumer } },
  } as unknown as Connection;
  const topology = {
    ensureConsumer: async () => 'durable',
    address: () => ({ stream: 'stream' }),
  } as unknown as Topology;
  const received: TransportDelivery[] = [];
  const pull = new PullSubscription({
    connection,
    topology,
    options: resolveOptions(),
    topic: 't',
    group: 'g',
    prefetch: 10,
    from: 'latest',
    subscriber: new Subscriber<TransportDelivery>({
      next: (d) => void received.push(d),
      error: () => {},
      complete: () => {},
    }),
  });
  await pull.start();
  await new Promise((resolve) => setTimeout(resolve, 50));
  pull.stop();
  expect(received.map((d) => `${d.message.body[0]}@${d.attempt}`)).toEqual(['1@1', '2@1', '2@2', '3@1']);
  expect(naks).toEqual([]);
});
