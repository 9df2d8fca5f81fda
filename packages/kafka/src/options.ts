import type { ConnectionOptions } from 'node:tls';
import { InvalidUrlError, type Logger, type LogThreshold, UnsupportedOptionError } from '@switchyard/core';
import { checkUrlParams, timerMs, wholeNumber } from '@switchyard/core/transport';
import type { SASLOptions } from 'kafkajs';
import { defaultGroupId } from './names.ts';
import type { BrokerAddress } from './socket-factory.ts';

/** `connect({ url: 'kafka://…', kafka: { … } })`: everything is optional. */
export interface KafkaOptions {
  /**
   * The client library underneath: `kafkajs`, or `platformatic` (@platformatic/kafka). The group
   * member, key order, offset tracking and publishing are the same on both. Default: the URL's
   * `?client=`, else `kafkajs`.
   */
  readonly client?: 'kafkajs' | 'platformatic';
  /** Bootstrap brokers (`host:port`), replacing the URL's. Default: the URL's host list. */
  readonly brokers?: readonly string[];
  /** Client id the broker sees in its logs and quotas. Default: `switchyard`. */
  readonly clientId?: string;
  /** TLS: `true` for the platform's CAs, or Node TLS options (ca, cert, key…). Default: off (`?ssl=true` in the URL turns it on). */
  readonly ssl?: boolean | ConnectionOptions;
  /**
   * SASL, passed to kafkajs unchanged (plain, scram-sha-256/512, aws, oauthbearer). Default: from the
   * URL's user info with `?sasl=<mechanism>` (plain when not given). Never logged or put in an error.
   */
  readonly sasl?: SASLOptions;
  /**
   * The Kafka consumer group id of Switchyard group `group` on `topic`. A Switchyard group belongs
   * to one topic (as in memory://), while a Kafka group spans every topic its members subscribe to:
   * sharing one id across topics would make a join on one topic stop the others, and kafkajs's
   * assigner would hand members partitions of topics they do not read. Default: `<topic>.<group>`.
   */
  readonly groupIdFor?: (topic: string, group: string) => string;
  /** Partitions of a topic this transport creates. Default: 3, so per-key order is really partitioned. */
  readonly partitions?: number;
  /** Replication factor of a topic this transport creates. Default: the broker's `default.replication.factor`. */
  readonly replicationFactor?: number;
  /** Extra topic configs for topics this transport creates (e.g. `{ 'retention.ms': '86400000' }`). */
  readonly topicConfig?: Readonly<Record<string, string>>;
  /**
   * Largest `encodedSize()` accepted. Topics this transport creates get `max.message.bytes` above it by
   * the record framing. Default: 1 000 000 (fits the broker's default 1 MiB, headers included).
   */
  readonly maxMessageBytes?: number;
  /** Consumer session timeout: how soon a crashed member's partitions move to another. Default: 10 000 ms. */
  readonly sessionTimeoutMs?: number;
  /** Consumer heartbeat interval. Default: 1 000 ms. */
  readonly heartbeatIntervalMs?: number;
  /** How long a rebalance waits for members to rejoin. Default: 30 000 ms. */
  readonly rebalanceTimeoutMs?: number;
  /** Longest a fetch waits on the broker for new records (latency of an idle member). Default: 250 ms. */
  readonly maxWaitTimeMs?: number;
  /**
   * Records a member may hold per partition beyond its committed offset (waiting for their key, in
   * a handler, or in a delayed retry) before it stops fetching that partition. Bounds memory and
   * what a crash redelivers. A fetch that arrived is taken whole, so a partition may hold one more
   * fetch's records beyond it: up to 1 MiB of them (kafkajs's maxBytesPerPartition), or one record
   * batch when a single batch is larger. Default: max(4 × prefetch, 256).
   */
  readonly maxUncommittedPerPartition?: number;
  /**
   * How long handlers still running may take to settle (and their offsets be committed) before a
   * member gives up its partitions: after unsubscribe, before it leaves the group; on a rebalance,
   * before it rejoins, so the next owner does not handle those records a second time. The whole
   * group waits for that rejoin, at most the rebalance timeout less a heartbeat interval and one
   * second. Default: 30 000 ms (the bus's own drain deadline).
   */
  readonly drainTimeoutMs?: number;
  /** Producer retries before a publish rejects (broker down, leader moving). Default: 8 (about 30 s). */
  readonly publishRetries?: number;
  /**
   * How long connecting may take, handshake included (ApiVersions, SASL): `connect()` and each
   * client connecting later fail with a TransportError naming the brokers after it, also against a
   * peer that accepts TCP and never answers. Default: 10 000 ms.
   */
  readonly connectTimeoutMs?: number;
  /** TCP connect timeout of one broker connection attempt (at most `connectTimeoutMs`). Default: 3 000 ms. */
  readonly connectionTimeoutMs?: number;
  /** Broker request timeout. Default: 30 000 ms. */
  readonly requestTimeoutMs?: number;
  /**
   * Connect somewhere else than the address each broker advertises: a TCP proxy, an SSH tunnel, a
   * NAT. Called for every broker connection. Default: connect to the advertised address.
   */
  readonly rewriteAddress?: (advertised: BrokerAddress) => BrokerAddress;
  /**
   * Least level of kafkajs lines written, after expected conditions were lowered (a broker error code
   * the transport handles: debug; connection loss and consumer restarts: warn). Default: the
   * `connect({ logLevel })` given, else `warn`.
   */
  readonly logLevel?: LogThreshold;
  /** Where kafkajs lines go (namespace and message only, never config). Default: `connect({ logger })`, else stderr. */
  readonly logger?: Logger;
}

/** Options with defaults applied and the URL folded in. */
export interface ResolvedOptions {
  readonly client: 'kafkajs' | 'platformatic';
  readonly brokers: string[];
  readonly clientId: string;
  readonly ssl: boolean | ConnectionOptions | undefined;
  readonly sasl: SASLOptions | undefined;
  readonly groupIdFor: (topic: string, group: string) => string;
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly topicConfig: Readonly<Record<string, string>>;
  readonly maxMessageBytes: number;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly maxWaitTimeMs: number;
  readonly maxUncommittedPerPartition: number | undefined;
  readonly drainTimeoutMs: number;
  readonly publishRetries: number;
  readonly connectTimeoutMs: number;
  readonly connectionTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly rewriteAddress: KafkaOptions['rewriteAddress'];
  readonly logLevel: NonNullable<KafkaOptions['logLevel']>;
  readonly logger: NonNullable<KafkaOptions['logger']> | undefined;
}

/**
 * `kafka://host:port[,host:port…][?ssl=true&sasl=scram-sha-256&clientId=…]`, with credentials in the
 * user info. Accepts a string too, because a multi-host list is not a valid WHATWG URL.
 */
export function resolveOptions(url: URL | string, options: KafkaOptions = {}): ResolvedOptions {
  const parsed = parseKafkaUrl(url);
  checkParams(parsed, options);
  const sasl =
    options.sasl ??
    (parsed.username
      ? ({
          mechanism: (parsed.params.get('sasl') ?? 'plain').toLowerCase(),
          username: parsed.username,
          password: parsed.password,
        } as SASLOptions)
      : undefined);
  const brokers = options.brokers ? [...options.brokers] : parsed.brokers;
  if (brokers.length === 0) throw new InvalidUrlError('A kafka:// URL needs at least one host:port');
  const client = options.client ?? parsed.params.get('client') ?? 'kafkajs';
  if (client !== 'kafkajs' && client !== 'platformatic') {
    throw new UnsupportedOptionError(`kafka client '${client}': expected 'kafkajs' or 'platformatic'`);
  }
  return {
    client,
    brokers,
    clientId: options.clientId ?? parsed.params.get('clientId') ?? 'switchyard',
    ssl: options.ssl ?? (parsed.params.get('ssl')?.toLowerCase() === 'true' ? true : undefined),
    sasl,
    groupIdFor: options.groupIdFor ?? defaultGroupId,
    partitions: wholeNumber('partitions', options.partitions ?? 3),
    replicationFactor: options.replicationFactor ?? -1,
    topicConfig: options.topicConfig ?? {},
    maxMessageBytes: wholeNumber('maxMessageBytes', options.maxMessageBytes ?? 1_000_000),
    // Every duration below reaches a setTimeout (kafkajs's or this transport's), which runs
    // NaN, Infinity or anything over 2^31 - 1 ms after 1 ms.
    sessionTimeoutMs: timerMs('sessionTimeoutMs', options.sessionTimeoutMs ?? 10_000),
    heartbeatIntervalMs: timerMs('heartbeatIntervalMs', options.heartbeatIntervalMs ?? 1_000),
    rebalanceTimeoutMs: timerMs('rebalanceTimeoutMs', options.rebalanceTimeoutMs ?? 30_000),
    maxWaitTimeMs: timerMs('maxWaitTimeMs', options.maxWaitTimeMs ?? 250, 0),
    maxUncommittedPerPartition:
      options.maxUncommittedPerPartition === undefined
        ? undefined
        : wholeNumber('maxUncommittedPerPartition', options.maxUncommittedPerPartition),
    drainTimeoutMs: drainMs(options.drainTimeoutMs ?? 30_000),
    publishRetries: wholeNumber('publishRetries', options.publishRetries ?? 8, 0),
    connectTimeoutMs: timerMs('connectTimeoutMs', options.connectTimeoutMs ?? 10_000),
    connectionTimeoutMs: timerMs('connectionTimeoutMs', options.connectionTimeoutMs ?? 3_000),
    requestTimeoutMs: timerMs('requestTimeoutMs', options.requestTimeoutMs ?? 30_000),
    rewriteAddress: options.rewriteAddress,
    logLevel: options.logLevel ?? 'warn',
    logger: options.logger,
  };
}

/** drainTimeoutMs: 0 or more; above what a timer keeps (Infinity) it waits for every handler. */
function drainMs(value: number): number {
  if (typeof value !== 'number' || !(value >= 0))
    throw new UnsupportedOptionError(
      `kafka option drainTimeoutMs must be a number of milliseconds from 0 (Infinity: no bound), not ${String(value)}`,
    );
  return value;
}

const URL_PARAMS = ['ssl', 'sasl', 'clientId', 'client'];
// The mechanisms a URL can configure alone; aws and oauthbearer need more than user info.
const URL_SASL = ['plain', 'scram-sha-256', 'scram-sha-512'];

/**
 * Refuse what the URL cannot mean: read leniently, `?ssl=yes` or a misspelt `?sls=true` connected
 * without TLS and sent the user info's password in the clear with SASL PLAIN. Messages name the
 * parameter, never its value or the URL (either may hold a secret).
 */
function checkParams(parsed: ParsedUrl, options: KafkaOptions): void {
  const { params } = parsed;
  checkUrlParams(params, 'kafka://', URL_PARAMS);
  const ssl = params.get('ssl')?.toLowerCase();
  if (ssl !== undefined && ssl !== 'true' && ssl !== 'false') {
    throw new InvalidUrlError('kafka:// parameter ssl must be true or false');
  }
  const mechanism = params.get('sasl')?.toLowerCase();
  if (mechanism !== undefined && !URL_SASL.includes(mechanism)) {
    throw new InvalidUrlError(
      `kafka:// parameter sasl must be one of ${URL_SASL.join(', ')} (others through kafka: { sasl })`,
    );
  }
  if (mechanism !== undefined && !parsed.username && options.sasl === undefined) {
    throw new InvalidUrlError(
      'kafka:// parameter sasl needs credentials in the user info (kafka://user:pass@host)',
    );
  }
}

interface ParsedUrl {
  readonly brokers: string[];
  readonly username: string;
  readonly password: string;
  readonly params: URLSearchParams;
}

// Split by hand: `new URL('kafka://a:9092,b:9092')` throws, since a port must be digits.
const KAFKA_URL = /^kafka:\/\/(?:([^@/?#]*)@)?([^/?#]*)[^?#]*(?:\?([^#]*))?/i;

export function parseKafkaUrl(url: URL | string): ParsedUrl {
  const match = KAFKA_URL.exec(String(url));
  // The message never repeats the URL: it may hold a password.
  if (!match) throw new InvalidUrlError('Expected kafka://host:port[,host:port…]');
  const [, userInfo = '', hostList = '', query = ''] = match;
  const [user = '', ...rest] = userInfo.split(':');
  const brokers = hostList
    .split(',')
    .map((host) => host.trim())
    .filter((host) => host.length > 0)
    .map((host) => (/:\d+$/.test(host) ? host : `${host}:9092`));
  return {
    brokers,
    username: decodeURIComponent(user),
    password: decodeURIComponent(rest.join(':')),
    params: new URLSearchParams(query),
  };
}
