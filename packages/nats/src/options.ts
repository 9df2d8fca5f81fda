import type { StreamConfig } from '@nats-io/jetstream';
import type { NodeConnectionOptions } from '@nats-io/transport-node';
import { UnsupportedOptionError } from '@switchyard/core';
import { checkUrlParams, timerMs } from '@switchyard/core/transport';

/** Options under the `nats` key of `connect({ url: 'nats://...', nats: {...} })`. */
export interface NatsOptions {
  /**
   * Prepended to a topic to make its subject: topic `orders` is published on `switchyard.orders`.
   * Keeps Switchyard's subjects apart from an account's other traffic. Default: `'switchyard.'`.
   */
  readonly subjectPrefix?: string;
  /**
   * Prepended to the (escaped) topic to name its stream: topic `orders` lives in stream
   * `SWITCHYARD_orders`. Default: `'SWITCHYARD_'`.
   */
  readonly streamPrefix?: string;
  /**
   * The consumer's `ack_wait`: how long an unsettled delivery stays leased to a member that stopped
   * renewing it (crashed, disconnected, unsubscribed) before JetStream redelivers it elsewhere.
   * A live subscription renews the lease with `working()` every third of this. Applied when a group's
   * consumer is created; an existing consumer keeps the value it was created with. Default: 30 000.
   */
  readonly ackWaitMs?: number;
  /**
   * The stream's `duplicate_window`: a publish whose event id (`Nats-Msg-Id`) was already stored
   * within this window is acknowledged but not stored again, so a retried publish is never doubled.
   * Applied when a topic's stream is created. Default: 120 000 (two minutes, JetStream's default).
   */
  readonly duplicateWindowMs?: number;
  /**
   * The consumer's `max_ack_pending`: unsettled deliveries the server allows across all members of a
   * group together. Each member is bounded by its own `prefetch`; this caps the sum. Default: 10 000.
   */
  readonly maxAckPending?: number;
  /**
   * How long one pull request waits on the server for messages before it is renewed. Longer means
   * fewer idle requests; it does not delay delivery. At least 1 000. Default: 10 000.
   */
  readonly pullExpiresMs?: number;
  /**
   * How long a publish waits for the stream's PubAck, and an ack for its confirmation, before it
   * rejects. A publish that times out may still be stored once the connection recovers; its event id
   * makes a retry of it a duplicate the stream drops. Default: 10 000.
   */
  readonly requestTimeoutMs?: number;
  /**
   * How long `connect()` waits for the server to answer (TCP connect and the NATS handshake)
   * before it rejects with `TransportError` naming the (redacted) address. Default: 10 000.
   */
  readonly connectTimeoutMs?: number;
  /**
   * Extra stream settings applied when a topic's stream is created (e.g. `max_age`, `max_bytes`,
   * `num_replicas`). `name` and `subjects` are always the transport's own. Existing streams are not
   * updated. Default: none (file storage, limits retention, no limits).
   */
  readonly stream?: Partial<Omit<StreamConfig, 'name' | 'subjects'>>;
  /**
   * Passed to the nats.js `connect()` as is, over the transport's defaults (unlimited reconnect
   * attempts, 10 s pings, `noAsyncTraces: true`: no stack trace captured per request). Use it for
   * TLS, NKeys/JWT credentials or several seed servers. Credentials in the URL
   * (`nats://user:pass@host` or `nats://token@host`) are used when none are given here.
   */
  readonly connection?: Partial<NodeConnectionOptions>;
}

/** Every option with its default applied. */
export interface ResolvedOptions {
  readonly subjectPrefix: string;
  readonly streamPrefix: string;
  readonly ackWaitMs: number;
  readonly duplicateWindowMs: number;
  readonly maxAckPending: number;
  readonly pullExpiresMs: number;
  readonly requestTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly stream: Partial<Omit<StreamConfig, 'name' | 'subjects'>>;
  readonly connection: Partial<NodeConnectionOptions>;
}

export function resolveOptions(options: NatsOptions = {}): ResolvedOptions {
  return {
    subjectPrefix: options.subjectPrefix ?? 'switchyard.',
    streamPrefix: options.streamPrefix ?? 'SWITCHYARD_',
    ackWaitMs: positive('ackWaitMs', options.ackWaitMs ?? 30_000),
    duplicateWindowMs: positive('duplicateWindowMs', options.duplicateWindowMs ?? 120_000),
    maxAckPending: positive('maxAckPending', options.maxAckPending ?? 10_000),
    // The client refuses pull requests that expire sooner than a second.
    pullExpiresMs: Math.max(1_000, timerMs('pullExpiresMs', options.pullExpiresMs ?? 10_000)),
    // These reach setTimeout, which runs anything over 2^31 - 1 ms after 1 ms.
    requestTimeoutMs: timerMs('requestTimeoutMs', options.requestTimeoutMs ?? 10_000),
    connectTimeoutMs: timerMs('connectTimeoutMs', options.connectTimeoutMs ?? 10_000),
    stream: options.stream ?? {},
    connection: options.connection ?? {},
  };
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0)
    throw new UnsupportedOptionError(`nats option ${name} must be a positive number`);
  return value;
}

/**
 * Refuse a `nats://` URL parameter: the transport reads none (only host and user info), so a
 * `?tls=true` would connect without TLS and send the URL's password or token in the clear. The
 * message names the parameter, never its value or the URL (either may hold a secret).
 */
export function checkUrl(url: URL): void {
  checkUrlParams(
    url.searchParams,
    'nats://',
    [],
    '; give TLS, credentials and servers as nats: { connection }',
  );
}
