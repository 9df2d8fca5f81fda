import { Observable } from 'rxjs';
import { copyWire } from '../codec.ts';
import { Lifecycle } from '../kit/lifecycle.ts';
import { assertGroupName, assertTopicName } from '../names.ts';
import type { GroupStats, PeekedMessage } from '../ops/stats.ts';
import type {
  Capabilities,
  SubscribeOptions,
  Transport,
  TransportDelivery,
  WireMessage,
} from '../transport.ts';
import { type MemoryBroker, memoryBroker } from './broker.ts';
import type { Member, MemoryGroup } from './group.ts';
import { inspectMemory } from './inspect.ts';
import { peekMemory } from './peek.ts';

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
  /** Each member with the group it joined, released on close. */
  readonly #life = new Lifecycle<{ readonly member: Member; readonly group: MemoryGroup }>(
    'memory transport',
  );

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
    this.#life.assertOpen();
    assertTopicName(topic);
    // Copy the bytes: a publisher that reuses its buffer must not change what consumers see.
    this.#broker.publish(topic, messages.map(copyWire));
  }

  async provision(topic: string, group?: string, from?: 'latest' | 'earliest'): Promise<void> {
    // As every broker's transport does: a closed one makes nothing (a test would pass here alone).
    this.#life.assertOpen();
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
      if (this.#life.closed) {
        subscriber.error(this.#life.closedError());
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
        gone: () => this.#life.members.delete(joined),
      };
      const joined = { member, group };
      this.#life.members.add(joined);
      group.join(member);
      return () => group.leave(member);
    });
  }

  async inspect(topic: string, group: string): Promise<GroupStats> {
    this.#life.assertOpen();
    assertGroupName(topic, group);
    return inspectMemory(this.#broker, topic, group);
  }

  async peek(topic: string, group: string, limit: number): Promise<PeekedMessage[]> {
    this.#life.assertOpen();
    assertGroupName(topic, group);
    return peekMemory(this.#broker, topic, group, limit);
  }

  close(): Promise<void> {
    return this.#life.close(({ member, group }) => group.release(member));
  }
}
