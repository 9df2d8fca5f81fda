import { Observable } from 'rxjs';
import { ClosedError } from '../errors.ts';
import { assertGroupName, assertTopicName } from '../names.ts';
import type {
  Capabilities,
  SubscribeOptions,
  Transport,
  TransportDelivery,
  WireMessage,
} from '../transport.ts';
import { type MemoryBroker, memoryBroker } from './broker.ts';
import type { Member, MemoryGroup } from './group.ts';

export interface MemoryOptions {
  /** Messages per topic kept for groups created with `from: 'earliest'`. Default: 10 000. */
  readonly retain?: number;
  /** Largest message accepted, as `encodedSize()`. Default: 1 MiB. */
  readonly maxMessageBytes?: number;
}

/**
 * memory://[name]: a real transport inside this process. Buses connected to the same name share
 * topics and groups, with a broker's semantics: fan-out across groups, competition and strict
 * per-key order within one, prefetch, redelivery with attempt counts, delayed nack, retention.
 */
export class MemoryTransport implements Transport {
  readonly name = 'memory';
  readonly capabilities: Capabilities;
  readonly #broker: MemoryBroker;
  readonly #members = new Map<Member, MemoryGroup>();
  #closed = false;

  constructor(name = 'default', options: MemoryOptions = {}) {
    this.#broker = memoryBroker(name, options.retain ?? 10_000);
    this.capabilities = {
      consumerGroups: true,
      keyOrderWithinMember: true,
      keyOrderAcrossMembers: true,
      nativeDelay: true,
      persistence: true,
      shared: false,
      replay: true,
      maxMessageBytes: options.maxMessageBytes ?? 1_048_576,
    };
  }

  async publish(topic: string, messages: readonly WireMessage[]): Promise<void> {
    if (this.#closed) throw new ClosedError('memory transport');
    assertTopicName(topic);
    // Copy the bytes: a publisher that reuses its buffer must not change what consumers see.
    this.#broker.publish(
      topic,
      messages.map((m) => ({ headers: { ...m.headers }, body: m.body.slice(), key: m.key })),
    );
  }

  async provision(topic: string, group?: string, from?: 'latest' | 'earliest'): Promise<void> {
    if (group === undefined) {
      assertTopicName(topic);
      this.#broker.topic(topic);
    } else {
      assertGroupName(topic, group);
      this.#broker.group(topic, group, from);
    }
  }

  subscribe(topic: string, options: SubscribeOptions): Observable<TransportDelivery> {
    return new Observable<TransportDelivery>((subscriber) => {
      if (this.#closed) {
        subscriber.error(new ClosedError('memory transport'));
        return;
      }
      try {
        assertGroupName(topic, options.group);
      } catch (error) {
        subscriber.error(error);
        return;
      }
      const group = this.#broker.group(topic, options.group, options.from);
      const member: Member = {
        prefetch: options.prefetch,
        unsettled: 0,
        active: true,
        deliver: (delivery) => subscriber.next(delivery),
        gone: () => this.#members.delete(member),
      };
      this.#members.set(member, group);
      group.join(member);
      return () => group.leave(member);
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const [member, group] of this.#members) group.release(member);
    this.#members.clear();
  }
}
