// What each side of a pair (raw client, Switchyard) implements; scenarios.ts drives both the same way.

/** One message as the benchmark sees it: opaque bytes and an ordering key. */
export interface Item {
  readonly body: Uint8Array;
  readonly key: string;
}

export interface ConsumeSettings {
  /** Most deliveries held unsettled at once (broker prefetch / pull size). */
  readonly prefetch: number;
  /** Handlers running at once. */
  readonly concurrency: number;
}

export interface Consuming {
  /** Stop intake; resolves once the consumer is gone (unsettled messages go back to the broker). */
  stop(): Promise<void>;
}

export interface Driver {
  /** Connect (the connection is reused by every scenario). */
  open(): Promise<void>;
  /** Create the topic and the group before anything is published, so the group gets every message. */
  prepare(topic: string, group: string): Promise<void>;
  /** One message; resolves when the broker confirmed it (acks=all, publisher confirm, 200, PubAck). */
  publish(topic: string, item: Item): Promise<void>;
  /** Several messages, in order; resolves when the broker confirmed them all. */
  publishBatch(topic: string, items: readonly Item[]): Promise<void>;
  /** Consume; each message is acked after `handler` resolved. */
  consume(
    topic: string,
    group: string,
    settings: ConsumeSettings,
    handler: (body: Uint8Array) => void | Promise<void>,
  ): Promise<Consuming>;
  close(): Promise<void>;
}

/** `peer:<name>`: a library users pick instead (peers/index.ts). */
export type PeerSide = `peer:${string}`;
export type Side = 'raw' | 'switchyard' | PeerSide;

/** A broker's two sides, plus the versions to record. */
export interface Pair {
  readonly broker: string;
  readonly address: string;
  readonly client: string;
  create(side: Side): Driver;
  /** Delete what `prepare` made for `side` (topics, queues, streams, groups), with the raw client. */
  cleanup(side: Side, topics: readonly string[], group: string): Promise<void>;
}
