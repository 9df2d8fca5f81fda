import type { SQSClientConfig } from '@aws-sdk/client-sqs';
import { InvalidUrlError, UnsupportedOptionError } from '@switchyard/core';
import { checkUrlParams } from '@switchyard/core/transport';
import { PREFIX_PATTERN } from './names.ts';

/**
 * How a publish reaches the groups of a topic.
 * - `sns`: the topic is an SNS topic; each group's queue subscribes to it with raw message delivery.
 * - `queues`: no SNS; the publisher sends to every group queue of the topic, found with ListQueues.
 * - `none`: one queue per topic that every group shares (groups compete; no fan-out).
 * - `auto`: `sns`, unless an `endpoint` is set and it does not answer SNS (ElasticMQ), then `queues`.
 */
export type FanOut = 'sns' | 'queues' | 'none' | 'auto';

/** Settings for `sqs://` (the `sqs` key of `connect()`); each wins over the same URL parameter. */
export interface SqsOptions {
  /** Endpoint override for emulators (fauxqs, ElasticMQ) or VPC endpoints; URL `?endpoint=`. Default: AWS. */
  readonly endpoint?: string;
  /** AWS region; URL `?region=`. Default: the SDK's chain (AWS_REGION, profile), else `us-east-1` with an endpoint. */
  readonly region?: string;
  /**
   * Credentials or a provider. Default: the SDK's standard provider chain; when an `endpoint` is set
   * and the chain finds nothing, dummy static credentials (emulators do not check them).
   */
  readonly credentials?: SQSClientConfig['credentials'];
  /** How publishes fan out to groups; URL `?fanout=`. Default: `auto`. */
  readonly fanOut?: FanOut;
  /**
   * FIFO queues (and FIFO SNS topics): `MessageGroupId` = key, `MessageDeduplicationId` = event id,
   * so a key is delivered in order to one member at a time. URL `?fifo=true`. Default: false.
   */
  readonly fifo?: boolean;
  /** Prefix of every queue and topic name this transport creates (0-12 of `A-Za-z0-9_-`); URL `?prefix=`. Default: none. */
  readonly prefix?: string;
  /** Lease a received message gets, extended while it is unsettled; URL `?visibilityTimeout=`. Default: 30 s. */
  readonly visibilityTimeoutSeconds?: number;
  /**
   * Long-poll wait of one ReceiveMessage (0-20 s). Unsubscribe and `close()` let a poll in flight
   * finish rather than abort it (an aborted poll still takes messages on the broker's side), so this
   * bounds how long `close()` can take. URL `?waitTime=`. Default: 20 on AWS; 1 with an `endpoint`.
   */
  readonly waitTimeSeconds?: number;
  /**
   * ReceiveMessage requests one subscription keeps in flight. More raises intake, but on standard
   * queues two polls may return one key's messages out of order. Default: 1 (FIFO: 3).
   */
  readonly receiveConcurrency?: number;
  /**
   * The broker's limit on one message as SQS counts it (body + attribute names, types, values),
   * also applied to one batch. Default: 262 144 (256 KiB). Above that only with `fanOut: 'queues'`
   * or `'none'` (SNS stays at 256 KiB).
   */
  readonly maxMessageBytes?: number;
  /**
   * `fanOut: 'queues'` only: how long a ListQueues answer is reused. 0 lists on every publish, so a
   * group another process just provisioned gets the next event. Default: 0.
   */
  readonly discoveryTtlMs?: number;
  /** Extra attributes for queues this transport creates (e.g. `KmsMasterKeyId`, `MessageRetentionPeriod`). */
  readonly queueAttributes?: Readonly<Record<string, string>>;
  /** `fanOut: 'sns'`: set a queue policy that lets the topic send to the group queue. Default: true. */
  readonly manageQueuePolicy?: boolean;
  /**
   * How long the endpoint may take to give its first answer (connecting included): until it has
   * answered once, a request (the first provision, publish or subscribe) fails after it with a
   * TransportError naming the endpoint, also against a peer that accepts TCP and never answers.
   * Default: 10 000 ms.
   */
  readonly connectTimeoutMs?: number;
}

export interface ResolvedOptions {
  readonly endpoint: string | undefined;
  readonly region: string | undefined;
  readonly credentials: SQSClientConfig['credentials'];
  readonly fanOut: FanOut;
  readonly fifo: boolean;
  readonly prefix: string;
  readonly visibilityTimeoutSeconds: number;
  readonly waitTimeSeconds: number;
  readonly receiveConcurrency: number;
  readonly maxMessageBytes: number;
  readonly discoveryTtlMs: number;
  readonly queueAttributes: Readonly<Record<string, string>>;
  readonly manageQueuePolicy: boolean;
  readonly connectTimeoutMs: number;
}

const URL_PARAMS = ['endpoint', 'region', 'fanout', 'fifo', 'prefix', 'visibilityTimeout', 'waitTime'];
const FAN_OUTS = new Set<FanOut>(['sns', 'queues', 'none', 'auto']);
export const SNS_MAX_MESSAGE_BYTES = 262_144;

/**
 * Merge `sqs://?endpoint=&region=&fanout=&fifo=&prefix=&visibilityTimeout=&waitTime=` with the options
 * object. The URL alone must be enough for a process that only has it (a worker, the crash case's child).
 */
export function resolveOptions(url: URL, options: SqsOptions = {}): ResolvedOptions {
  if (url.host !== '') {
    throw new InvalidUrlError(
      'sqs:// takes no host: give an emulator as sqs://?endpoint=http://127.0.0.1:4566',
    );
  }
  const params = url.searchParams;
  checkUrlParams(params, 'sqs://', URL_PARAMS);
  const endpoint = options.endpoint ?? params.get('endpoint') ?? undefined;
  if (endpoint !== undefined && !/^https?:\/\/[^/]/.test(endpoint)) {
    throw new InvalidUrlError('The sqs endpoint must be an http:// or https:// URL');
  }
  const fanOut = options.fanOut ?? (params.get('fanout') as FanOut | null) ?? 'auto';
  if (!FAN_OUTS.has(fanOut)) throw new InvalidUrlError(`fanout must be one of ${[...FAN_OUTS].join(', ')}`);
  const fifoParam = params.get('fifo');
  if (fifoParam !== null && fifoParam !== 'true' && fifoParam !== 'false') {
    throw new InvalidUrlError('fifo must be true or false');
  }
  const fifo = options.fifo ?? fifoParam === 'true';
  const prefix = options.prefix ?? params.get('prefix') ?? '';
  if (!PREFIX_PATTERN.test(prefix)) throw new InvalidUrlError('prefix must be 0-12 of A-Z a-z 0-9 _ -');

  const maxMessageBytes = integer(
    'maxMessageBytes',
    options.maxMessageBytes ?? SNS_MAX_MESSAGE_BYTES,
    1024,
    1_048_576,
  );
  if (maxMessageBytes > SNS_MAX_MESSAGE_BYTES && (fanOut === 'sns' || fanOut === 'auto')) {
    throw new UnsupportedOptionError(
      `maxMessageBytes above ${SNS_MAX_MESSAGE_BYTES} needs fanOut 'queues' or 'none': SNS accepts no more`,
    );
  }
  return {
    endpoint,
    region: options.region ?? params.get('region') ?? undefined,
    credentials: options.credentials,
    fanOut,
    fifo,
    prefix,
    visibilityTimeoutSeconds: integer(
      'visibilityTimeoutSeconds',
      options.visibilityTimeoutSeconds ?? numberParam(params, 'visibilityTimeout') ?? 30,
      1,
      43_200,
    ),
    waitTimeSeconds: integer(
      'waitTimeSeconds',
      options.waitTimeSeconds ?? numberParam(params, 'waitTime') ?? (endpoint === undefined ? 20 : 1),
      0,
      20,
    ),
    receiveConcurrency: integer('receiveConcurrency', options.receiveConcurrency ?? (fifo ? 3 : 1), 1, 64),
    maxMessageBytes,
    discoveryTtlMs: integer('discoveryTtlMs', options.discoveryTtlMs ?? 0, 0, 3_600_000),
    queueAttributes: { ...options.queueAttributes },
    manageQueuePolicy: options.manageQueuePolicy ?? true,
    connectTimeoutMs: integer('connectTimeoutMs', options.connectTimeoutMs ?? 10_000, 1, 600_000),
  };
}

function numberParam(params: URLSearchParams, name: string): number | undefined {
  const value = params.get(name);
  if (value === null) return undefined;
  if (!/^\d+$/.test(value)) throw new InvalidUrlError(`${name} must be a whole number of seconds`);
  return Number(value);
}

function integer(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UnsupportedOptionError(`sqs option ${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}
