// The Switchyard side of every pair: the public API only (connect, publish, publishBatch, consume + handle).
import { type Bus, type ConnectOptions, connect, handle } from '@switchyard/core';
import type { Consuming, Driver, Item } from './driver.ts';

const TYPE = 'bench.event';

export class SwitchyardDriver implements Driver {
  readonly #options: ConnectOptions;
  #bus: Bus | undefined;

  constructor(options: Omit<ConnectOptions, 'source'>) {
    this.#options = { ...options, source: 'bench' } as ConnectOptions;
  }

  get bus(): Bus {
    if (!this.#bus) throw new Error('not open');
    return this.#bus;
  }

  async open(): Promise<void> {
    this.#bus = await connect(this.#options);
  }

  async prepare(topic: string, group: string): Promise<void> {
    await this.bus.provision(topic, { groups: [group] });
  }

  async publish(topic: string, item: Item): Promise<void> {
    await this.bus.publish(topic, { type: TYPE, data: item.body, key: item.key });
  }

  async publishBatch(topic: string, items: readonly Item[]): Promise<void> {
    await this.bus.publishBatch(
      topic,
      items.map((item) => ({ type: TYPE, data: item.body, key: item.key })),
    );
  }

  async consume(
    topic: string,
    group: string,
    settings: { prefetch: number; concurrency: number },
    handler: (body: Uint8Array) => void | Promise<void>,
  ): Promise<Consuming> {
    const subscription = this.bus
      .consume<Uint8Array>(topic, { group, prefetch: settings.prefetch })
      .pipe(handle((event) => handler(event.data), { concurrency: settings.concurrency }))
      .subscribe({
        next: (outcome) => {
          if (outcome.kind !== 'acked') console.error(`switchyard: ${outcome.kind} ${outcome.error ?? ''}`);
        },
        error: (error: unknown) => console.error('switchyard consume failed:', error),
      });
    return {
      stop: async () => subscription.unsubscribe(),
    };
  }

  async close(): Promise<void> {
    await this.#bus?.close({ drainTimeoutMs: 5_000 });
  }
}
