import type { MsgHdrs } from '@nats-io/transport-node';
import {
  assertGroupName,
  assertTopicName,
  type Capabilities,
  ClosedError,
  encodedSize,
  MessageTooLargeError,
  PublishBatchError,
  type SubscribeOptions,
  type Transport,
  type TransportDelivery,
  TransportError,
  UnsupportedOptionError,
  type WireMessage,
} from '@switchyard/core';
import { Observable } from 'rxjs';
import { Connection } from './connection.ts';
import { toSwitchyardError } from './errors.ts';
import { toNatsHeaders, wireSize } from './headers.ts';
import { type NatsOptions, type ResolvedOptions, resolveOptions } from './options.ts';
import { PullSubscription } from './pull-subscription.ts';
import { Topology } from './topology.ts';

/**
 * Room left under the server's `max_payload` for what the wire adds to `encodedSize()`: the header
 * block's framing (`ce-` prefixes, `: `, CRLFs), `Nats-Msg-Id`, and the transport's own headers.
 */
const HEADER_ALLOWANCE = 4_096;
const CLOSE_FLUSH_MS = 2_000;
/** How often one publish is sent again after the connection it went out on was lost. */
const MAX_RESENDS = 3;
const CONNECTION_LOST = Symbol('connection lost');

/** Switchyard on NATS JetStream: topic → stream + subject, group → durable pull consumer. */
export class NatsTransport implements Transport {
  readonly name = 'nats';
  readonly capabilities: Capabilities;
  readonly #connection: Connection;
  readonly #topology: Topology;
  readonly #options: ResolvedOptions;
  readonly #maxPayload: number;
  readonly #subscriptions = new Set<PullSubscription>();
  #closing: Promise<void> | undefined;

  private constructor(connection: Connection, options: ResolvedOptions) {
    this.#connection = connection;
    this.#options = options;
    this.#topology = new Topology(connection.jsm, options);
    this.#maxPayload = connection.nc.info?.max_payload ?? 1_048_576;
    this.capabilities = {
      consumerGroups: true,
      // Members of a group pull from one consumer in turn; a key is not pinned to a member.
      keyOrderWithinMember: true,
      keyOrderAcrossMembers: false,
      nativeDelay: true,
      persistence: true,
      shared: true,
      replay: true,
      maxMessageBytes: this.#maxPayload - HEADER_ALLOWANCE,
    };
  }

  /** Connect to the server in `url` (`nats://[user:pass@|token@]host:port`). */
  static async connect(url: URL, options?: NatsOptions): Promise<NatsTransport> {
    const resolved = resolveOptions(options);
    return new NatsTransport(await Connection.open(url, resolved), resolved);
  }

  /** Resolves when the stream's PubAck arrived for every message (duplicates of an event id included). */
  async publish(topic: string, messages: readonly WireMessage[]): Promise<void> {
    this.#assertOpen();
    if (messages.length === 0) return;
    const limit = this.capabilities.maxMessageBytes;
    const prepared = messages.map((message, index) => {
      const size = encodedSize(message);
      const headers = toNatsHeaders(message);
      if (size > limit || wireSize(headers, message.body) > this.#maxPayload) {
        throw new MessageTooLargeError(size, limit, index);
      }
      return headers;
    });
    const { subject } = await this.#topology.ensureStream(topic);
    // Pipelined on one connection, so the stream stores them in the order given.
    const results = await Promise.allSettled(
      messages.map((message, index) => this.#publishOne(topic, subject, message.body, prepared[index]!)),
    );
    const failures = results.flatMap((result, index) =>
      result.status === 'rejected'
        ? [{ index, error: toSwitchyardError(result.reason, `publishing to '${topic}'`) }]
        : [],
    );
    if (failures.length === 0) return;
    if (messages.length === 1) throw failures[0]!.error;
    throw new PublishBatchError(failures, messages.length);
  }

  async provision(topic: string, group?: string, from?: 'latest' | 'earliest'): Promise<void> {
    this.#assertOpen();
    if (group === undefined) assertTopicName(topic);
    else assertGroupName(topic, group);
    if (group === undefined) await this.#topology.ensureStream(topic);
    else await this.#topology.ensureConsumer(topic, group, from);
  }

  subscribe(topic: string, options: SubscribeOptions): Observable<TransportDelivery> {
    return new Observable<TransportDelivery>((subscriber) => {
      if (this.#closing !== undefined) {
        subscriber.error(new ClosedError('nats transport'));
        return;
      }
      assertGroupName(topic, options.group);
      if (!Number.isInteger(options.prefetch) || options.prefetch < 1) {
        subscriber.error(
          new UnsupportedOptionError(`prefetch must be a positive integer, got ${options.prefetch}`),
        );
        return;
      }
      const subscription = new PullSubscription({
        connection: this.#connection,
        topology: this.#topology,
        options: this.#options,
        topic,
        group: options.group,
        prefetch: options.prefetch,
        from: options.from ?? 'latest',
        subscriber,
      });
      this.#subscriptions.add(subscription);
      void subscription.start();
      return () => {
        subscription.stop();
        this.#subscriptions.delete(subscription);
      };
    });
  }

  /** Ends every subscription, flushes what is buffered and closes the connection. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    for (const subscription of this.#subscriptions) subscription.complete();
    this.#subscriptions.clear();
    await this.#connection.close(CLOSE_FLUSH_MS);
  }

  async #publishOne(topic: string, subject: string, body: Uint8Array, headers: MsgHdrs): Promise<void> {
    let streamRecreated = false;
    for (let resend = 0; ; resend++) {
      try {
        await this.#publishOnConnection(subject, body, headers);
        return;
      } catch (error) {
        if (error === CONNECTION_LOST && resend < MAX_RESENDS) {
          // Sent on a socket that died: it may or may not have been stored. Send it again once
          // reconnected; its Nats-Msg-Id makes the stream drop the second copy if the first landed.
          continue;
        }
        if (error === CONNECTION_LOST) {
          throw new TransportError(`Connection lost ${MAX_RESENDS + 1} times while publishing to '${topic}'`);
        }
        // No stream answers: it was deleted since we cached it. Re-create it and try once more.
        if (!isNoStream(error) || streamRecreated) throw error;
        streamRecreated = true;
        this.#topology.forget(topic);
        await this.#topology.ensureStream(topic);
      }
    }
  }

  /** One publish; rejects with CONNECTION_LOST as soon as the connection it went out on is lost. */
  async #publishOnConnection(subject: string, body: Uint8Array, headers: MsgHdrs): Promise<void> {
    // The client drops what is written while it is disconnected (each dial resets its buffer), so
    // a publish waits for the connection rather than vanish into that buffer.
    await this.#connection.whenConnected(this.#options.requestTimeoutMs);
    const { lost, cancel } = this.#connection.lostSince(this.#connection.epoch);
    const sending = this.#connection.js.publish(subject, body, {
      headers,
      timeout: this.#options.requestTimeoutMs,
    });
    try {
      await Promise.race([sending, lost.then(() => Promise.reject(CONNECTION_LOST))]);
    } catch (error) {
      // The abandoned request still settles later (PubAck or timeout); nobody waits for it.
      if (error === CONNECTION_LOST) sending.catch(() => {});
      throw error;
    } finally {
      cancel();
    }
  }

  #assertOpen(): void {
    if (this.#closing !== undefined || this.#connection.closed) throw new ClosedError('nats transport');
  }
}

function isNoStream(error: unknown): boolean {
  return (
    error instanceof Error && (error.name === 'JetStreamNotEnabled' || /no responders/i.test(error.message))
  );
}
