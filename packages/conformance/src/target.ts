import type { Bus, Capabilities } from '@switchyard/core';

/** What a transport's test file hands to `runConformance`. */
export interface ConformanceTarget {
  /** Shown in the matrix: `memory`, `kafka`, `rabbitmq`, `sqs`, `nats`. */
  readonly name: string;
  /** What the transport declares; the suite checks it equals `bus.transport.capabilities`. */
  readonly capabilities: Capabilities;
  /** A fresh bus on the broker under test (each call a new connection); `url` overrides the target's. */
  connect(options?: { url?: string }): Promise<Bus>;
  /** The URL `connect()` uses; a child process (crash case) connects with it. */
  readonly url: string;
  /**
   * Put bytes that are not a valid event on `topic` with the broker's own client, as a foreign
   * producer would, so that members of existing groups receive them.
   */
  injectRaw(topic: string, body: Uint8Array): Promise<void>;
  /**
   * For the reconnect case: the URL of the same broker reached through a TCP proxy on 127.0.0.1
   * that the suite runs and can cut. Omit when the broker cannot be reached through a proxy; the
   * case is then reported n/a with that reason.
   */
  urlThroughProxy?(proxy: { host: string; port: number }): string;
  /** The broker's address the proxy forwards to (required with `urlThroughProxy`). */
  readonly upstream?: { host: string; port: number };
  /**
   * For the broker-restart case: launch a broker of this test's own (the shared one is in use by
   * every other test file) and return the URL `connect()` takes for it. Omit where this machine
   * cannot run one; the case is then n/a.
   */
  privateBroker?(): Promise<{ url: string; restart(): Promise<unknown>; stop(): Promise<void> }>;
  /**
   * How long the broker lets a delivery stay unacked before it would redeliver it (SQS visibility,
   * JetStream ack_wait), as configured by `connect()`; the lease case runs a handler longer than this.
   * Omit when the broker has no such deadline.
   */
  readonly ackDeadlineMs?: number;
  /** Upper bound on how long after a member dies its unacked deliveries reach another member. */
  readonly redeliveryAfterCrashMs?: number;
  /**
   * A broker known to hand out, now and then, a message whose ack it had confirmed, as a first
   * delivery (delivery count 1): a limit of the server, named in the transport's README, that no
   * client can tell from a first delivery. The churn cases then allow up to `max` such handler calls
   * per case, each at attempt 1 (a repeat at a later attempt is still a failure), and note them.
   * Omitted: none allowed.
   */
  readonly redeliversAfterAck?: { readonly max: number; readonly why: string };
  /**
   * After the suite: delete every topic and group it left on the shared broker (all their names
   * start with `prefix`). For brokers where each leftover costs the server for good, such as
   * RabbitMQ's quorum queues (a Raft member each); best effort, it must not throw.
   */
  sweep?(prefix: string): Promise<void>;
}
