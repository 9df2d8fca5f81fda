import type { Observable } from 'rxjs';
import { bodyLength, bodyLengthBound } from './codec.ts';
import type { Logger, LogThreshold } from './logger.ts';
import type { GroupStats, PeekedMessage } from './ops/stats.ts';

/**
 * What a transport moves: one event in CloudEvents binary content mode.
 * `headers` holds every context attribute by its CloudEvents name (`id`, `type`,
 * `correlationid`, ...), string-encoded; each transport applies its binding's prefix.
 */
export interface WireMessage {
  readonly headers: Readonly<Record<string, string>>;
  /**
   * The data bytes. A delivered body may be a view into a larger buffer (see `copyBytes`): read it
   * through `byteOffset` and `byteLength`, never through `.buffer` alone.
   */
  readonly body: Uint8Array;
  /** Ordering key (the `partitionkey` extension), when the event has one. */
  readonly key?: string | undefined;
}

/** What a broker feature the policies and the conformance suite may rely on. */
export interface Capabilities {
  /** Same group competes, different groups each get every message. */
  readonly consumerGroups: boolean;
  /**
   * The broker hands one member a key's messages in publish order, so handle() can keep per-key
   * order within a member. False where the broker does not promise it (SQS standard queues).
   */
  readonly keyOrderWithinMember: boolean;
  /** A key is handled by one member of a group at a time, so per-key order holds across members. */
  readonly keyOrderAcrossMembers: boolean;
  /** `nack({ delayMs })` is held by the broker rather than by this process. */
  readonly nativeDelay: boolean;
  /** Messages published while no member of a group runs wait for it. */
  readonly persistence: boolean;
  /** Members in other processes share the group (false only for memory://). */
  readonly shared: boolean;
  /** A new group may start from the earliest retained message (`from: 'earliest'`). */
  readonly replay: boolean;
  /** Largest `encodedSize()` of a message the broker accepts. */
  readonly maxMessageBytes: number;
}

export interface SubscribeOptions {
  readonly group: string;
  /** Upper bound on deliveries handed out and not yet settled. */
  readonly prefetch: number;
  /** Where a group that does not exist yet starts: at `latest` (default) or the `earliest` retained. */
  readonly from?: 'latest' | 'earliest';
}

/** One delivery of a message to a group member; it must be settled exactly once. */
export interface TransportDelivery {
  readonly message: WireMessage;
  /** 1-based; the broker's own delivery count where it keeps one. */
  readonly attempt: number;
  ack(): Promise<void>;
  /** Give the message back; with `delayMs` it is redelivered no sooner than that. */
  nack(options?: { delayMs?: number }): Promise<void>;
}

/**
 * The whole contract a broker must meet. A transport maps; it never decides policy.
 * While a delivery is unsettled and its subscription alive, the transport keeps its lease
 * (SQS visibility, JetStream in-progress, ...) so it is not redelivered elsewhere.
 */
export interface Transport {
  readonly name: string;
  readonly capabilities: Capabilities;
  /**
   * Resolves once the broker durably accepted every message; rejects with `PublishBatchError`
   * naming the ones it did not. A single message rejects with its own error (`TransportError`,
   * `MessageTooLargeError`, ...), never with a `PublishBatchError` of one. Resolves with a
   * `PublishReceipt` when the broker told it dropped some as duplicates of an event id it holds.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: a transport with nothing to report keeps Promise<void>
  publish(topic: string, messages: readonly WireMessage[]): Promise<void | PublishReceipt>;
  /** Create the topic and, if given, the group (positioned per `from`) when missing. Idempotent. */
  provision(topic: string, group?: string, from?: 'latest' | 'earliest'): Promise<void>;
  /**
   * Cold: provisions, then emits deliveries. Unsubscribing stops intake; deliveries already emitted
   * can still be settled until `close()`, and those never settled are redelivered after it.
   */
  subscribe(topic: string, options: SubscribeOptions): Observable<TransportDelivery>;
  close(): Promise<void>;
  /** Operations (#23): the group's backlog, in flight and oldest age as the broker counts them. */
  inspect?(topic: string, group: string): Promise<GroupStats>;
  /** Operations (#23): up to `limit` of the group's unsettled messages, oldest first, without consuming them. */
  peek?(topic: string, group: string, limit: number): Promise<PeekedMessage[]>;
}

/** What a publish tells beyond "accepted". */
export interface PublishReceipt {
  /**
   * Positions (in the call) of messages the broker acknowledged but did not store, because it
   * already holds one with the same event id within its de-duplication window (JetStream's
   * `Nats-Msg-Id`). Such a message is never delivered.
   */
  readonly duplicates?: readonly number[];
}

/** What a transport package's `create` export receives from `connect()`. */
export interface TransportFactoryOptions {
  readonly url: URL;
  /** The URL exactly as given (a host list like `kafka://a:9092,b:9092` survives only here). */
  readonly href: string;
  /** The transport's own key from `connect({ kafka: {...} })` etc. */
  readonly options?: unknown;
  /** `connect({ logger, logLevel })` with the level applied: where the broker client's log lines go. */
  readonly logger?: Logger;
  /** The least level `logger` writes, so a client can skip producing lines nobody reads. */
  readonly logLevel?: LogThreshold;
}

export type TransportFactory = (options: TransportFactoryOptions) => Promise<Transport>;

/** Bytes a message occupies, for `Capabilities.maxMessageBytes`: body plus header names and values (UTF-8). */
export function encodedSize(message: WireMessage): number {
  let size = bodyLength(message);
  const headers = message.headers;
  for (const name in headers) size += utf8Length(name) + utf8Length(headers[name]!);
  return size;
}

/**
 * At least `encodedSize(message)`, counted without reading any text: 3 bytes per UTF-16 unit of
 * every header name and value and of a JSON body not yet encoded. A limit check against it first
 * leaves the exact count, a scan of every character (about 0.4 µs for an event's headers, more
 * for its JSON), to the rare message whose bound is over the limit.
 */
export function encodedSizeBound(message: WireMessage): number {
  let units = 0;
  const headers = message.headers;
  for (const name in headers) units += name.length + headers[name]!.length;
  return bodyLengthBound(message) + 3 * units;
}

/**
 * A copy of `bytes`, for a transport whose client hands out views into a larger buffer (a fetch
 * response, a socket chunk) that must not stay alive with one message. A copy under 4 KiB is a
 * view into Node's shared 8 KiB pool (as `Buffer.from` makes it): several times cheaper than an
 * ArrayBuffer of its own (allocation and collection), and a kept copy holds at most that 8 KiB
 * slab alive. So `byteOffset` may be non-zero and `.buffer` holds other bytes too. It comes back
 * as a plain Uint8Array, the type the API promises.
 */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  if (bytes.byteLength === 0) return new Uint8Array(0);
  const copy = Buffer.from(bytes);
  return new Uint8Array(copy.buffer, copy.byteOffset, copy.byteLength);
}

/**
 * `derive` remembered per name, for a binding's header ↔ attribute names: the same few on every
 * message, so each is built once instead of per message (no concatenation or slice, no regex).
 * Past `max` distinct names (a foreign producer's) it forgets them all and starts again; a name
 * longer than 64 characters is derived every time, not kept. What `derive` throws is not remembered.
 */
export function rememberedNames<T extends NonNullable<unknown> | null>(
  derive: (name: string) => T,
  max = 1_000,
): (name: string) => T {
  const known = new Map<string, T>();
  return (name) => {
    let value = known.get(name);
    if (value === undefined) {
      value = derive(name);
      if (name.length > 64) return value;
      if (known.size >= max) known.clear();
      known.set(name, value);
    }
    return value;
  };
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: any character outside ASCII
const NON_ASCII = /[^\u0000-\u007f]/;

/** UTF-8 bytes of `text`: its length when all ASCII (header names and values almost always are). */
function utf8Length(text: string): number {
  return NON_ASCII.test(text) ? Buffer.byteLength(text) : text.length;
}
