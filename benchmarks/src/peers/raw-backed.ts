// A peer is measured on the topology the raw side makes (same queue, topic, stream arguments), so
// it borrows the raw driver for open/prepare/close and brings only its own publish and consume.
import type { ConsumeSettings, Consuming, Driver, Item } from '../driver.ts';
import { type Broker, loadPair } from '../pairs.ts';

export abstract class RawBacked implements Driver {
  #raw: Driver | undefined;
  protected readonly groups = new Map<string, string>();
  readonly #broker: Broker;

  constructor(broker: Broker) {
    this.#broker = broker;
  }

  protected get raw(): Driver {
    if (!this.#raw) throw new Error('not open');
    return this.#raw;
  }

  async open(): Promise<void> {
    this.#raw = (await loadPair(this.#broker)).create('raw');
    await this.#raw.open();
  }

  async prepare(topic: string, group: string): Promise<void> {
    await this.raw.prepare(topic, group);
    this.groups.set(topic, group);
  }

  abstract publish(topic: string, item: Item): Promise<void>;

  async publishBatch(topic: string, items: readonly Item[]): Promise<void> {
    await Promise.all(items.map((item) => this.publish(topic, item)));
  }

  abstract consume(
    topic: string,
    group: string,
    settings: ConsumeSettings,
    handler: (body: Uint8Array) => void | Promise<void>,
  ): Promise<Consuming>;

  async close(): Promise<void> {
    await this.#raw?.close();
  }
}

/** What the JSON-speaking peers carry: the key and the body as base64, as a user would send bytes. */
export interface JsonItem {
  readonly k: string;
  readonly b: string;
}

export const toJson = (item: Item): JsonItem => ({
  k: item.key,
  b: Buffer.from(item.body.buffer, item.body.byteOffset, item.body.byteLength).toString('base64'),
});

export const fromJson = (data: JsonItem): Uint8Array => Buffer.from(data.b, 'base64');
