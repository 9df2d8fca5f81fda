import { randomUUID } from 'node:crypto';
import { ChangeMessageVisibilityBatchCommand, DeleteMessageBatchCommand } from '@aws-sdk/client-sqs';
import { MessageTooLargeError, TransportError } from '@switchyard/core';
import {
  assertGroupName,
  assertTopicName,
  type Capabilities,
  deduplicationId,
  type GroupStats,
  Lifecycle,
  type SubscribeOptions,
  type Transport,
  type TransportDelivery,
  type WireMessage,
} from '@switchyard/core/transport';
import type { Observable } from 'rxjs';
import { Batcher } from './batcher.ts';
import { toSqs } from './binding.ts';
import { type Clients, createClients } from './clients.ts';
import { type Consumer, consume } from './consumer.ts';
import { transportError } from './errors.ts';
import { inspectSqs } from './inspect.ts';
import { Leases, type VisibilityChange } from './leases.ts';
import { type ResolvedOptions, resolveOptions, type SqsOptions } from './options.ts';
import { peekSqs } from './peek.ts';
import { fifoIds, type Outgoing, publishAll, sendBatch } from './publisher.ts';
import { Topology } from './topology.ts';

/**
 * Room kept for the envelope (the `ce` JSON's quotes and separators, attribute names and types), so
 * an event within `capabilities.maxMessageBytes` fits SQS's limit unless it carries hundreds of
 * attributes; the exact SQS size is checked before sending either way.
 */
export const ENVELOPE_RESERVE = 4_096;

/**
 * The `encodedSize()` every message is accepted at: binary data counts 4/3 (base64) on the wire, so
 * the declared limit is 3/4 of what is left after the envelope's reserve.
 */
export function declaredMaxBytes(wireLimit: number): number {
  return Math.floor(((wireLimit - ENVELOPE_RESERVE) * 3) / 4);
}

/** Switchyard's transport contract on Amazon SQS, with SNS (or the publisher) fanning out to groups. */
export class SqsTransport implements Transport {
  readonly name = 'sqs';
  readonly capabilities: Capabilities;
  readonly #options: ResolvedOptions;
  readonly #clients: Clients;
  readonly #topology: Topology;
  readonly #acks: Batcher<string>;
  readonly #visibility: Batcher<VisibilityChange>;
  /** Single publishes per topic, gathered into SendMessageBatch (or SNS PublishBatch) calls. */
  readonly #singles: Batcher<Outgoing>;
  readonly #leases: Leases;
  readonly #life = new Lifecycle<Consumer>('sqs transport');
  readonly #publishing = new Set<Promise<void>>();

  constructor(options: ResolvedOptions, clients: Clients = createClients(options)) {
    this.#options = options;
    this.#clients = clients;
    this.#topology = new Topology(clients, options);
    this.#acks = new Batcher((queueUrl, handles) => this.#deleteBatch(queueUrl, handles));
    this.#visibility = new Batcher((queueUrl, changes) => this.#visibilityBatch(queueUrl, changes));
    this.#singles = new Batcher((topic, entries) => this.#sendSingles(topic, entries), {
      sizeOf: (entry) => entry.payload.size,
      maxBytes: options.maxMessageBytes,
    });
    this.#leases = new Leases(this.#visibility, options.visibilityTimeoutSeconds);
    this.capabilities = {
      consumerGroups: options.fanOut !== 'none',
      // A FIFO queue hands out a message group's next message only after the previous one is deleted.
      keyOrderAcrossMembers: options.fifo,
      // A standard queue's order is best effort: a key's messages can come back in any order
      // (400 keyed events at concurrency 8 did), which no member can repair.
      keyOrderWithinMember: options.fifo,
      nativeDelay: true,
      persistence: true,
      shared: true,
      replay: false,
      maxMessageBytes: declaredMaxBytes(options.maxMessageBytes),
    };
  }

  /** The fan-out in use (`auto` decided against the endpoint). */
  fanOut(): Promise<'sns' | 'queues' | 'none'> {
    return this.#topology.mode();
  }

  /**
   * The transport for `sqs://?endpoint=...&region=...`. No request is made here: the first
   * provision or publish decides `fanOut: 'auto'` and creates what is missing.
   */
  static async create(url: URL | string, options: SqsOptions = {}): Promise<SqsTransport> {
    return new SqsTransport(resolveOptions(new URL(url), options));
  }

  publish(topic: string, messages: readonly WireMessage[]): Promise<void> {
    if (this.#life.closed) return Promise.reject(this.#life.closedError());
    try {
      assertTopicName(topic);
    } catch (error) {
      return Promise.reject(error);
    }
    const publishing = this.#publish(topic, messages);
    this.#publishing.add(publishing);
    const forget = () => this.#publishing.delete(publishing);
    publishing.then(forget, forget);
    return publishing;
  }

  async #publish(topic: string, messages: readonly WireMessage[]): Promise<void> {
    const entries: Outgoing[] = [];
    // The declared limit is core's to check (the bus, before any transport); here only what SQS
    // measures: the envelope (body and attributes) against its message size limit.
    const limit = this.#options.maxMessageBytes;
    for (const [index, message] of messages.entries()) {
      const payload = toSqs(message);
      if (payload.size > limit) throw new MessageTooLargeError(payload.size, limit, index);
      entries.push(
        this.#options.fifo
          ? { index, payload, ...fifoIds(message.key, deduplicationId(message), randomUUID()) }
          : { index, payload },
      );
    }
    if (entries.length === 0) return;
    // One event per call (bus.publish): concurrent ones to a topic go out together, up to 10 per
    // request, each settled with its own entry's outcome. A round trip per event is what made
    // single publishes a quarter as fast as batched ones.
    if (entries.length === 1) return this.#singles.add(topic, entries[0]!);
    const targets = await this.#topology.targets(topic);
    await publishAll(this.#clients, targets, entries, limit);
  }

  /** A gathered batch of single publishes: targets resolved once for it, entries numbered by position. */
  async #sendSingles(topic: string, entries: readonly Outgoing[]): Promise<Array<Error | undefined>> {
    const targets = await this.#topology.targets(topic);
    return sendBatch(
      this.#clients,
      targets,
      entries.map((entry, index) => ({ ...entry, index })),
    );
  }

  provision(topic: string, group?: string, from?: 'latest' | 'earliest'): Promise<void> {
    if (this.#life.closed) return Promise.reject(this.#life.closedError());
    try {
      if (group === undefined) assertTopicName(topic);
      else assertGroupName(topic, group);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#topology.provision(topic, group, from);
  }

  /** Operations (#23): the group queue's visible messages, received and made visible again at once. */
  async peek(topic: string, group: string, limit: number) {
    if (this.#life.closed) throw this.#life.closedError();
    assertGroupName(topic, group);
    const mode = await this.#topology.mode();
    return peekSqs(this.#clients, this.#options, mode, topic, group, limit);
  }

  subscribe(topic: string, options: SubscribeOptions): Observable<TransportDelivery> {
    return consume(
      {
        clients: this.#clients,
        topology: this.#topology,
        leases: this.#leases,
        acks: this.#acks,
        visibility: this.#visibility,
        options: this.#options,
        consumers: this.#life.members,
        isClosed: () => this.#life.closed,
      },
      topic,
      options,
    );
  }

  /** Operations (#23): visible + not visible + delayed of the group's queue; in flight = not visible. */
  async inspect(topic: string, group: string): Promise<GroupStats> {
    this.#life.assertOpen();
    assertGroupName(topic, group);
    return inspectSqs(this.#clients, this.#options, await this.#topology.mode(), topic, group);
  }

  /**
   * Stop intake, wait for polls in flight (up to `waitTimeSeconds`), make every message still held
   * visible again, send pending acks, then close the HTTP clients. Safe to call more than once.
   */
  close(): Promise<void> {
    return this.#life.close(
      (consumer) => consumer.close(),
      () => this.#release(),
    );
  }

  async #release(): Promise<void> {
    // Gathered single publishes go now rather than at the next turn of the event loop.
    await this.#singles.drain();
    await Promise.allSettled([...this.#publishing]);
    await this.#leases.releaseAll();
    await Promise.all([this.#acks.drain(), this.#visibility.drain()]);
    this.#clients.sqs.destroy();
    this.#clients.sns.destroy();
  }

  async #deleteBatch(queueUrl: string, handles: readonly string[]): Promise<Array<Error | undefined>> {
    try {
      const reply = await this.#clients.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: handles.map((ReceiptHandle, i) => ({ Id: String(i), ReceiptHandle })),
        }),
      );
      return perEntry(handles.length, reply.Failed, 'delete');
    } catch (error) {
      throw transportError('DeleteMessageBatch', error);
    }
  }

  async #visibilityBatch(
    queueUrl: string,
    changes: readonly VisibilityChange[],
  ): Promise<Array<Error | undefined>> {
    try {
      const reply = await this.#clients.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: changes.map((c, i) => ({
            Id: String(i),
            ReceiptHandle: c.receiptHandle,
            VisibilityTimeout: c.seconds,
          })),
        }),
      );
      return perEntry(changes.length, reply.Failed, 'change visibility of');
    } catch (error) {
      throw transportError('ChangeMessageVisibilityBatch', error);
    }
  }
}

function perEntry(
  count: number,
  failed: ReadonlyArray<{ Id?: string; Code?: string; Message?: string }> | undefined,
  what: string,
): Array<Error | undefined> {
  const results: Array<Error | undefined> = new Array(count).fill(undefined);
  for (const f of failed ?? []) {
    results[Number(f.Id)] = new TransportError(
      `SQS could not ${what} the message: ${f.Code}: ${f.Message ?? ''}`,
    );
  }
  return results;
}
