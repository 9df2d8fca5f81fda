import { Ring } from '../kit/ring.ts';
import type { WireMessage } from '../transport.ts';
import { MemoryGroup } from './group.ts';

interface Topic {
  readonly groups: Map<string, MemoryGroup>;
  /** Retained for groups that ask to start from the earliest message. */
  readonly log: Ring<WireMessage>;
}

/** The state behind `memory://name`: every bus connected to the same name shares it. */
export class MemoryBroker {
  readonly #topics = new Map<string, Topic>();
  readonly retain: number;

  constructor(retain: number) {
    this.retain = retain;
  }

  topic(name: string): Topic {
    let topic = this.#topics.get(name);
    if (!topic) {
      topic = { groups: new Map(), log: new Ring(this.retain) };
      this.#topics.set(name, topic);
    }
    return topic;
  }

  /** The group if it exists, without creating anything: undefined topic or group says which is missing. */
  find(topicName: string, groupName: string): { topic: boolean; group: MemoryGroup | undefined } {
    const topic = this.#topics.get(topicName);
    return { topic: topic !== undefined, group: topic?.groups.get(groupName) };
  }

  group(topicName: string, groupName: string, from: 'latest' | 'earliest' = 'latest'): MemoryGroup {
    const topic = this.topic(topicName);
    let group = topic.groups.get(groupName);
    if (!group) {
      group = new MemoryGroup();
      if (from === 'earliest') for (const message of topic.log) group.enqueue(message);
      topic.groups.set(groupName, group);
    }
    return group;
  }

  publish(topicName: string, messages: readonly WireMessage[]): void {
    const topic = this.topic(topicName);
    for (const message of messages) {
      for (const group of topic.groups.values()) group.enqueue(message);
      topic.log.push(message);
    }
    for (const group of topic.groups.values()) group.dispatch();
  }
}

const brokers = new Map<string, MemoryBroker>();

/** The process-wide broker for a `memory://` URL's name (default `default`). */
export function memoryBroker(name: string, retain: number): MemoryBroker {
  let broker = brokers.get(name);
  if (!broker) {
    broker = new MemoryBroker(retain);
    brokers.set(name, broker);
  }
  return broker;
}
