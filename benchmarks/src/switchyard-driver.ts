// The Switchyard side of every pair: the public API only (connect, publish, publishBatch, consume + handle).
import { Bus, type ConnectOptions, connect, handle } from '@switchyard/core';
import type { Transport } from '@switchyard/core/transport';
import type { Consuming, Driver, Item } from './driver.ts';

const TYPE = 'bench.event';

export class SwitchyardDriver implements Driver {
  readonly #options: ConnectOptions;
  readonly #transport: (() => Promise<Transport>) | undefined;
  #bus: Bus | undefined;

  /** `transport`: a transport to run the bus on instead of the one `connect()` loads (A/B runs of two copies). */
  constructor(options: Omit<ConnectOptions, 'source'>, transport?: () => Promise<Transport>) {
    this.#options = { ...options, source: 'bench' } as ConnectOptions;
    this.#transport = transport;
  }

  get bus(): Bus {
    if (!this.#bus) throw new Error('not open');
    return this.#bus;
  }

  async open(): Promise<void> {
    this.#bus = this.#transport
      ? new Bus(await this.#transport(), { source: 'bench' })
      : await connect(this.#options);
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
