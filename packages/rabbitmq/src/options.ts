import { InvalidUrlError } from '@switchyard/core';
import { checkUrlParams, timerMs } from '@switchyard/core/transport';
import type { SocketOptions } from 'amqplib';

/** What `connect({ url: 'amqp://...', amqp: { ... } })` accepts. Every field is optional. */
export interface RabbitMqOptions {
  /**
   * Declare each group's quorum queue with `x-single-active-consumer`, so one member of a group
   * receives at a time and per-key order holds across members (the others wait as hot standbys and
   * take over when it leaves or dies). `false`: members compete message by message and order holds
   * only within one member. Default: `true`. Must match how existing queues were declared.
   */
  readonly singleActiveConsumer?: boolean;
  /**
   * Largest `encodedSize()` of a message this transport accepts. Must not exceed the broker's
   * `max_message_size` (128 MiB by default on 3.10). Default: 4 MiB. Set above it, a body the broker
   * refuses rejects with `MessageTooLargeError` (its `limit` the broker's) once the broker closes
   * the channel over it; it is not sent again and other publishes carry on.
   */
  readonly maxMessageBytes?: number;
  /**
   * How long a publish may wait for a connection, for the broker to lift `connection.blocked`,
   * and for the publisher confirm, before it rejects with `TransportError`. Default: 30 000 ms.
   */
  readonly publishTimeoutMs?: number;
  /**
   * Publish with the `mandatory` flag and reject with `TransportError` when no queue is bound to the
   * topic (no group provisioned), instead of letting the broker drop the message. Default: `false`,
   * matching pub/sub: an event nobody subscribed to is not an error.
   */
  readonly requireRoute?: boolean;
  /** Backoff between reconnect attempts after the connection is lost: exponential with jitter. */
  readonly reconnect?: {
    /** First delay. Default: 100 ms. */
    readonly initialDelayMs?: number;
    /** Largest delay. Default: 5 000 ms. */
    readonly maxDelayMs?: number;
  };
  /**
   * How long connecting may take, TCP and AMQP handshake included, before `connect()` (or a
   * reconnect attempt) fails with `TransportError` naming the (redacted) address. Without it a
   * peer that accepts TCP and never answers kept `connect()` pending for good. Default: 10 000 ms.
   */
  readonly connectTimeoutMs?: number;
  /** AMQP heartbeat interval; a silent dead peer is noticed after about two of them. Default: the URL's `?heartbeat=`, else 10 s. */
  readonly heartbeatSeconds?: number;
  /**
   * TTL of the delay queues behind `nack({ delayMs })`, in ms. A delay is served by the largest tier
   * not above it, repeated until the delay has passed, so it is never shorter than asked and at most
   * one smallest tier longer. Default: 100 ms to 1 h in roughly 2-2.5× steps.
   */
  readonly delayTiersMs?: readonly number[];
  /** Prefix of the shared delay exchanges and queues (`<prefix>.delay.<ms>`). Default: `switchyard`. */
  readonly namespace?: string;
  /**
   * Shown as `connection_name` in the management UI and `rabbitmqctl list_connections`, on both the
   * publishing connection and the consumers' (opened with the first subscription). Default: `switchyard`.
   */
  readonly connectionName?: string;
  /**
   * Socket and TLS options handed to amqplib (CA, client certificate, ...) for `amqps://`. `noDelay`
   * (TCP_NODELAY) is on unless set to `false`: the transport writes each event-loop turn's frames in
   * one `writev`, so Nagle's algorithm has nothing to gather and only added its wait for an ACK.
   */
  readonly socket?: SocketOptions;
  /**
   * The management plugin's HTTP API (`http://host:15672`), for `inspect()`: over AMQP a queue
   * reports its ready messages only, the API adds unacked ones, consumers and acks. Credentials in
   * this URL, else the AMQP URL's, else guest; never shown in errors. Default: none (AMQP only).
   */
  readonly managementUrl?: string;
}

export interface ResolvedOptions {
  readonly singleActiveConsumer: boolean;
  readonly maxMessageBytes: number;
  readonly publishTimeoutMs: number;
  readonly requireRoute: boolean;
  readonly reconnectInitialMs: number;
  readonly reconnectMaxMs: number;
  readonly heartbeatSeconds: number;
  readonly connectTimeoutMs: number;
  readonly delayTiersMs: readonly number[];
  readonly namespace: string;
  readonly connectionName: string;
  readonly socket: SocketOptions;
  readonly managementUrl: string | undefined;
}

export const DEFAULT_DELAY_TIERS_MS: readonly number[] = [
  100, 250, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 60_000, 120_000, 300_000, 600_000, 1_800_000, 3_600_000,
];

/** Options with defaults applied; `url` lends its `?heartbeat=` when `heartbeatSeconds` is not given. */
export function resolveOptions(options: RabbitMqOptions | undefined, url?: string): ResolvedOptions {
  const tiers = [...new Set(options?.delayTiersMs ?? DEFAULT_DELAY_TIERS_MS)]
    .filter((ms) => Number.isInteger(ms) && ms > 0)
    .sort((a, b) => a - b);
  if (tiers.length === 0) throw new RangeError('delayTiersMs needs at least one positive integer');
  // Reconnect delays go to setTimeout: Infinity as the largest meant a retry every millisecond.
  const reconnectInitialMs = timerMs('reconnect.initialDelayMs', options?.reconnect?.initialDelayMs ?? 100);
  return {
    singleActiveConsumer: options?.singleActiveConsumer ?? true,
    maxMessageBytes: options?.maxMessageBytes ?? 4 * 1024 * 1024,
    publishTimeoutMs: timerMs('publishTimeoutMs', options?.publishTimeoutMs ?? 30_000),
    requireRoute: options?.requireRoute ?? false,
    reconnectInitialMs,
    reconnectMaxMs: timerMs(
      'reconnect.maxDelayMs',
      options?.reconnect?.maxDelayMs ?? 5_000,
      reconnectInitialMs,
    ),
    heartbeatSeconds: options?.heartbeatSeconds ?? urlHeartbeat(url) ?? 10,
    connectTimeoutMs: timerMs('connectTimeoutMs', options?.connectTimeoutMs ?? 10_000),
    delayTiersMs: tiers,
    namespace: options?.namespace ?? 'switchyard',
    connectionName: options?.connectionName ?? 'switchyard',
    socket: { noDelay: true, ...options?.socket },
    managementUrl: options?.managementUrl,
  };
}

function urlHeartbeat(url: string | undefined): number | undefined {
  const value = url !== undefined && URL.canParse(url) ? new URL(url).searchParams.get('heartbeat') : null;
  return value === null ? undefined : Number(value);
}

/** The query parameters amqplib reads from the URL; it ignored every other one. */
const URL_PARAMS = ['heartbeat', 'frameMax', 'channelMax', 'maxFrameSize', 'locale'];
// amqplib takes parseInt of these, so `?heartbeat=5s` meant 5 and `?frameMax=abc` NaN.
const WHOLE_NUMBERS = ['heartbeat', 'frameMax', 'channelMax', 'maxFrameSize'];

/**
 * Refuse what an `amqp://`/`amqps://` URL cannot mean: amqplib dropped a parameter it does not know
 * (a `?verify=verify_peer` or `?cacertfile=` from the Erlang client's URI spec did nothing) and read
 * the first of two. Messages name the parameter, never its value or the URL (either may hold a secret).
 * A string that is no URL is left to amqplib, whose error does not repeat it either.
 */
export function checkUrl(url: string): void {
  if (!URL.canParse(url)) return;
  const { protocol, searchParams: params } = new URL(url);
  const scheme = `${protocol}//`;
  checkUrlParams(params, scheme, URL_PARAMS, ' (TLS through amqp: { socket })');
  for (const name of WHOLE_NUMBERS) {
    const value = params.get(name);
    if (value !== null && !/^\d+$/.test(value)) {
      throw new InvalidUrlError(`${scheme} parameter ${name} must be a whole number`);
    }
  }
}
