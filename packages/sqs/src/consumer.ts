import { type Message, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { ClosedError, UnsupportedOptionError } from '@switchyard/core';
import { assertGroupName, type SubscribeOptions, type TransportDelivery } from '@switchyard/core/transport';
import { Observable, type Subscriber } from 'rxjs';
import type { Batcher } from './batcher.ts';
import { fromSqs } from './binding.ts';
import type { Clients } from './clients.ts';
import { createDelivery } from './delivery.ts';
import { isPermanent, transportError } from './errors.ts';
import type { Leases, VisibilityChange } from './leases.ts';
import type { ResolvedOptions } from './options.ts';
import type { Topology } from './topology.ts';

/** What the consumers of one transport share. */
export interface ConsumerContext {
  readonly clients: Clients;
  readonly topology: Topology;
  readonly leases: Leases;
  readonly acks: Batcher<string>;
  readonly visibility: Batcher<VisibilityChange>;
  readonly options: ResolvedOptions;
  /** Live consumers, so that close() can stop them and wait for their polls. */
  readonly consumers: Set<Consumer>;
  isClosed(): boolean;
}

/** The longest a message may stay invisible (SQS: 12 hours). */
const MAX_VISIBILITY_SECONDS = 43_200;
const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 5_000;

/** A cold stream of deliveries from the queue of (topic, group). */
export function consume(
  context: ConsumerContext,
  topic: string,
  options: SubscribeOptions,
): Observable<TransportDelivery> {
  return new Observable<TransportDelivery>((subscriber) => {
    if (context.isClosed()) {
      subscriber.error(new ClosedError('sqs transport'));
      return;
    }
    assertGroupName(topic, options.group);
    const consumer = new Consumer(context, topic, options, subscriber);
    consumer.start();
    return () => consumer.stop();
  });
}

/**
 * One subscription: `receiveConcurrency` long polls, each asking for no more than the room left
 * under `prefetch` (handed out and unsettled, plus asked for and not yet handed out). Replies are
 * handed out in the order their polls were sent, so one key's messages keep the queue's order.
 */
export class Consumer {
  readonly #context: ConsumerContext;
  readonly #topic: string;
  readonly #options: SubscribeOptions;
  readonly #subscriber: Subscriber<TransportDelivery>;
  #active = true;
  #unsettled = 0;
  #reserved = 0;
  #waiters: Array<() => void> = [];
  #sleepers: Array<() => void> = [];
  #loops: Promise<void> = Promise.resolve();
  #nextTicket = 0;
  #nextOut = 0;
  readonly #replies = new Map<number, { messages: readonly Message[]; receivedAt: number }>();

  constructor(
    context: ConsumerContext,
    topic: string,
    options: SubscribeOptions,
    subscriber: Subscriber<TransportDelivery>,
  ) {
    this.#context = context;
    this.#topic = topic;
    this.#options = options;
    this.#subscriber = subscriber;
  }

  start(): void {
    this.#context.consumers.add(this);
    this.#loops = this.#run().finally(() => this.#context.consumers.delete(this));
  }

  /**
   * Stop intake. A poll already sent is left to finish rather than aborted: SQS (and the emulators)
   * would still hand its reply's messages to the dropped connection, hiding them for a whole
   * visibility timeout. What such a poll brings back is made visible again at once.
   */
  stop(): void {
    this.#active = false;
    this.#wake();
    const sleepers = this.#sleepers;
    this.#sleepers = [];
    for (const wake of sleepers) wake();
  }

  /** Resolves when no poll of this consumer is in flight. */
  finished(): Promise<void> {
    return this.#loops;
  }

  /** The transport is closing: stop, and end the stream once the polls are done. */
  async close(): Promise<void> {
    this.stop();
    await this.#loops;
    this.#subscriber.complete();
  }

  async #run(): Promise<void> {
    let queueUrl: string;
    try {
      queueUrl = await this.#context.topology.queueUrl(this.#topic, this.#options.group, this.#options.from);
    } catch (error) {
      this.#fail(error);
      return;
    }
    const pollers = Array.from({ length: this.#context.options.receiveConcurrency }, () =>
      this.#poll(queueUrl),
    );
    await Promise.all(pollers);
  }

  async #poll(queueUrl: string): Promise<void> {
    const { clients, options } = this.#context;
    let handing: Promise<void> = Promise.resolve();
    try {
      await this.#polls(queueUrl, clients, options, (next) => {
        handing = next;
      });
    } finally {
      // close() completes the stream after the polls: the last reply is handed out (or given back) first.
      await handing;
    }
  }

  async #polls(
    queueUrl: string,
    clients: Clients,
    options: ResolvedOptions,
    deferred: (handing: Promise<void>) => void,
  ): Promise<void> {
    let backoff = BACKOFF_MIN_MS;
    while (this.#running()) {
      const room = this.#options.prefetch - this.#unsettled - this.#reserved;
      if (room <= 0) {
        await this.#capacity();
        continue;
      }
      const asked = Math.min(10, room);
      this.#reserved += asked;
      const ticket = this.#nextTicket++;
      const receivedAt = Date.now();
      let messages: readonly Message[] = [];
      try {
        const reply = await clients.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: asked,
            WaitTimeSeconds: options.waitTimeSeconds,
            VisibilityTimeout: options.visibilityTimeoutSeconds,
            MessageAttributeNames: ['All'],
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
        );
        messages = reply.Messages ?? [];
        backoff = BACKOFF_MIN_MS;
      } catch (error) {
        if (isPermanent(error)) {
          this.#reserved -= asked;
          this.#hand(queueUrl, ticket, [], receivedAt);
          this.#fail(error);
          return;
        }
        // Passing trouble (network, throttling, broker restart): poll again after a pause.
        this.#reserved -= asked;
        this.#hand(queueUrl, ticket, [], receivedAt);
        await this.#pause(backoff);
        backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
        continue;
      }
      // Messages stay reserved until handed out, so the prefetch bound holds while they wait their turn.
      this.#reserved -= asked - messages.length;
      // A full reply says more is waiting: the next poll goes out first. A short one says the queue
      // is drained and the next poll will wait for new messages anyway: these go out at once, as
      // handing them out later would add the next poll's client work to their latency.
      if (messages.length < asked) this.#hand(queueUrl, ticket, messages, receivedAt);
      else deferred(this.#handSoon(queueUrl, ticket, messages, receivedAt));
    }
  }

  /**
   * Hand a full reply out once the next poll is on the wire. Handing out runs core's pipeline and the
   * handlers' synchronous part for up to ten messages; done first, it delayed every next poll by that
   * much, and fauxqs (one request at a time) sat idle meanwhile. The next poll's room already counts
   * these messages (they stay reserved until handed out), so prefetch still bounds what is held.
   */
  #handSoon(
    queueUrl: string,
    ticket: number,
    messages: readonly Message[],
    receivedAt: number,
  ): Promise<void> {
    return new Promise((resolve) => {
      setImmediate(() => {
        try {
          this.#hand(queueUrl, ticket, messages, receivedAt);
        } finally {
          resolve();
        }
      });
    });
  }

  #running(): boolean {
    return this.#active && !this.#context.isClosed();
  }

  #hand(queueUrl: string, ticket: number, messages: readonly Message[], receivedAt: number): void {
    this.#replies.set(ticket, { messages, receivedAt });
    for (let reply = this.#replies.get(this.#nextOut); reply; reply = this.#replies.get(this.#nextOut)) {
      this.#replies.delete(this.#nextOut);
      this.#nextOut += 1;
      for (const message of reply.messages) {
        this.#reserved -= 1;
        this.#emit(queueUrl, message, reply.receivedAt);
      }
    }
  }

  #emit(queueUrl: string, message: Message, receivedAt: number): void {
    const { leases, acks, visibility } = this.#context;
    const receiptHandle = message.ReceiptHandle!;
    if (!this.#active || this.#subscriber.closed) {
      void visibility.add(queueUrl, { receiptHandle, seconds: 0 }).catch(() => undefined);
      return;
    }
    const lease = leases.add(queueUrl, receiptHandle, receivedAt);
    this.#unsettled += 1;
    const attempt = Math.max(1, Number(message.Attributes?.ApproximateReceiveCount) || 1);
    const delivery = createDelivery(fromSqs(message.Body, message.MessageAttributes), attempt, {
      settling: () => leases.remove(lease),
      // Core counts a delivery unsettled until its settle resolves; the prefetch room opens then too.
      settled: () => {
        this.#unsettled -= 1;
        this.#wake();
      },
      ack: () => {
        if (this.#context.isClosed()) return Promise.reject(new ClosedError('sqs transport'));
        return acks.add(queueUrl, receiptHandle);
      },
      nack: (delayMs) => {
        // Once closed, every held message was already made visible again: nothing left to give back.
        if (this.#context.isClosed()) return Promise.resolve();
        const seconds = Math.ceil(delayMs / 1000);
        if (seconds > MAX_VISIBILITY_SECONDS) {
          return Promise.reject(
            new UnsupportedOptionError(
              `SQS can hold a message back for at most 12 hours (asked ${delayMs} ms)`,
            ),
          );
        }
        return visibility.add(queueUrl, { receiptHandle, seconds });
      },
    });
    this.#subscriber.next(delivery);
  }

  #fail(error: unknown): void {
    this.#active = false;
    this.#subscriber.error(transportError('receive', error));
  }

  #capacity(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#sleepers.push(done);
    });
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
