// `pnpm bench --peers`: the libraries users pick instead of Switchyard, each a Driver like the raw
// client and Switchyard, run in the same rounds on the same broker. Each says what it guarantees,
// so a figure bought with a weaker guarantee (no persistence, acks before the handler) is marked.
import type { Driver, PeerSide } from '../driver.ts';
import type { Broker } from '../pairs.ts';

export interface Peer {
  readonly side: PeerSide;
  readonly broker: Broker;
  /** Library and version range, as the table shows it. */
  readonly label: string;
  /** Undefined when it keeps Switchyard's guarantees; otherwise what it gives up, in a few words. */
  readonly weaker?: string;
  /** What differs in how it is driven (publishing through another client, its serialization). */
  readonly note?: string;
  /**
   * Set when the library cannot publish and its publish figures are another client's (what the
   * table says instead of judging them: the raw-client table already compares that client).
   */
  readonly publishesThrough?: string;
  create(): Promise<Driver>;
}

export const PEERS: readonly Peer[] = [
  {
    side: 'peer:nestjs-rmq',
    broker: 'rabbitmq',
    label: 'NestJS microservices (RMQ)',
    note:
      'JSON packets, body base64, no CloudEvents headers, sent to the queue through the default exchange; ' +
      'confirm channel, persistent, same quorum queue, prefetch 256, manual ack after the handler; ' +
      'every prefetched handler at once, no per-key order',
    create: async () => new (await import('./nest-rmq.ts')).NestRmq(),
  },
  {
    side: 'peer:rascal',
    broker: 'rabbitmq',
    label: 'rascal',
    note: 'confirmed publications, ack after the handler; same exchange and quorum queue',
    create: async () => new (await import('./rascal.ts')).RascalDriver(),
  },
  {
    side: 'peer:nestjs-kafka',
    broker: 'kafka',
    label: 'NestJS microservices (Kafka)',
    note: 'JSON values, body base64; kafkajs eachMessage, auto-commit; acks -1',
    create: async () => new (await import('./nest-kafka.ts')).NestKafka(),
  },
  {
    side: 'peer:nestjs-nats',
    broker: 'nats',
    label: 'NestJS microservices (NATS)',
    weaker: 'core NATS: no persistence, no acks (at most once)',
    note: 'JSON packets, body base64; a queue group',
    create: async () => new (await import('./nest-nats.ts')).NestNats(),
  },
  {
    side: 'peer:sqs-consumer',
    broker: 'sqs',
    label: 'sqs-consumer',
    note: 'consumer only: publishes through the raw SDK; handleMessage, a batch of 10 at a time, each deleted after its handler',
    publishesThrough: 'the raw SDK',
    create: async () => new (await import('./sqs-consumer.ts')).SqsConsumerDriver(),
  },
  {
    side: 'peer:mq-toolkit',
    broker: 'sqs',
    label: '@message-queue-toolkit/sqs',
    note: 'zod-validated JSON messages, body base64; a message deleted after its handler returned success',
    create: async () => new (await import('./mq-toolkit.ts')).MqToolkitDriver(),
  },
];

export function peersOf(broker: Broker): readonly Peer[] {
  return PEERS.filter((p) => p.broker === broker);
}

export function peer(side: PeerSide): Peer {
  const found = PEERS.find((p) => p.side === side);
  if (!found) throw new Error(`unknown peer ${side}`);
  return found;
}
