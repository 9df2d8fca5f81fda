import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { isConsumerNotFound, isStreamNotFound, toSwitchyardError } from './errors.ts';
import { durableNameFor, streamNameFor, subjectFor } from './names.ts';
import type { ResolvedOptions } from './options.ts';

/** Where a topic lives on the server. */
export interface TopicAddress {
  readonly stream: string;
  readonly subject: string;
}

/**
 * Creates streams and durable consumers on demand. Existing ones are used as they are: creating is
 * idempotent, and a group's position is never moved by a later member joining with other options.
 */
export class Topology {
  readonly #jsm: JetStreamManager;
  readonly #options: ResolvedOptions;
  // One creation per topic at a time; a failed one is forgotten so the next call retries.
  readonly #streams = new Map<string, Promise<TopicAddress>>();

  constructor(jsm: JetStreamManager, options: ResolvedOptions) {
    this.#jsm = jsm;
    this.#options = options;
  }

  /** The stream and subject of a topic, without touching the server. */
  address(topic: string): TopicAddress {
    return {
      stream: streamNameFor(this.#options.streamPrefix, topic),
      subject: subjectFor(this.#options.subjectPrefix, topic),
    };
  }

  /** Make sure the topic's stream exists (cached after the first success). */
  ensureStream(topic: string): Promise<TopicAddress> {
    let pending = this.#streams.get(topic);
    if (pending === undefined) {
      pending = this.#createStream(topic);
      this.#streams.set(topic, pending);
      pending.catch(() => this.#streams.delete(topic));
    }
    return pending;
  }

  /** Forget that a topic's stream exists, after the server said it does not. */
  forget(topic: string): void {
    this.#streams.delete(topic);
  }

  /** Make sure the group's durable consumer exists; a new one starts per `from`. Returns its name. */
  ensureConsumer(topic: string, group: string, from: 'latest' | 'earliest' = 'latest'): Promise<string> {
    return this.#ensureConsumer(topic, group, from, false);
  }

  async #ensureConsumer(
    topic: string,
    group: string,
    from: 'latest' | 'earliest',
    streamRecreated: boolean,
  ): Promise<string> {
    const { stream } = await this.ensureStream(topic);
    const durable = durableNameFor(group);
    try {
      await this.#jsm.consumers.info(stream, durable);
      return durable;
    } catch (error) {
      if (isStreamNotFound(error) && !streamRecreated) {
        // The cached stream was deleted under us: create it again, once.
        this.forget(topic);
        return this.#ensureConsumer(topic, group, from, true);
      }
      if (!isConsumerNotFound(error)) throw toSwitchyardError(error, `looking up group '${group}'`);
    }
    try {
      await this.#jsm.consumers.add(stream, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        // `new` starts right after the stream's last message at creation: only later events.
        deliver_policy: from === 'earliest' ? DeliverPolicy.All : DeliverPolicy.New,
        ack_wait: nanos(this.#options.ackWaitMs),
        // Retries and dead-lettering are core's policy: the server never gives up on a message.
        max_deliver: -1,
        max_ack_pending: this.#options.maxAckPending,
      });
    } catch (error) {
      // Another member may have created it first (possibly with another `from`): use theirs.
      try {
        await this.#jsm.consumers.info(stream, durable);
      } catch {
        throw toSwitchyardError(error, `creating group '${group}'`);
      }
    }
    return durable;
  }

  async #createStream(topic: string): Promise<TopicAddress> {
    const address = this.address(topic);
    try {
      await this.#jsm.streams.info(address.stream);
      return address;
    } catch (error) {
      if (!isStreamNotFound(error)) throw toSwitchyardError(error, `looking up topic '${topic}'`);
    }
    try {
      await this.#jsm.streams.add({
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
        discard: DiscardPolicy.Old,
        duplicate_window: nanos(this.#options.duplicateWindowMs),
        ...this.#options.stream,
        name: address.stream,
        subjects: [address.subject],
      });
    } catch (error) {
      // Created concurrently by another client: fine, as long as it is there now.
      try {
        await this.#jsm.streams.info(address.stream);
      } catch {
        throw toSwitchyardError(error, `creating topic '${topic}'`);
      }
    }
    return address;
  }
}
