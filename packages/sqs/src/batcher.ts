type Pending<T> = { item: T; resolve: () => void; reject: (e: Error) => void };

/**
 * Gathers single requests per queue into batch calls of up to 10 (DeleteMessageBatch,
 * ChangeMessageVisibilityBatch), the way Nagle's algorithm gathers bytes: with nothing in flight
 * for a queue, what was added in this turn of the event loop goes out at once; while a partial
 * batch is in flight, later ones wait for it (or until 10 are ready), so a busy consumer sends
 * full batches and an idle one adds no delay. Each `add` settles with its own entry's outcome.
 */
export class Batcher<T> {
  readonly #send: (queueUrl: string, items: readonly T[]) => Promise<ReadonlyArray<Error | undefined>>;
  readonly #pending = new Map<string, Pending<T>[]>();
  /** Batches in flight per queue. */
  readonly #busy = new Map<string, number>();
  readonly #inFlight = new Set<Promise<void>>();
  #scheduled: NodeJS.Immediate | undefined;

  constructor(send: (queueUrl: string, items: readonly T[]) => Promise<ReadonlyArray<Error | undefined>>) {
    this.#send = send;
  }

  add(queueUrl: string, item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let list = this.#pending.get(queueUrl);
      if (!list) {
        list = [];
        this.#pending.set(queueUrl, list);
      }
      list.push({ item, resolve, reject });
      if (list.length >= 10) this.#flushQueue(queueUrl);
      else if (!this.#busy.get(queueUrl)) this.#scheduled ??= setImmediate(() => this.#flushIdle());
    });
  }

  /** Send what is pending and wait until nothing is pending or in flight. */
  async drain(): Promise<void> {
    for (;;) {
      if (this.#scheduled) clearImmediate(this.#scheduled);
      this.#scheduled = undefined;
      for (const queueUrl of [...this.#pending.keys()]) this.#flushQueue(queueUrl);
      if (this.#inFlight.size === 0) return;
      await Promise.allSettled([...this.#inFlight]);
    }
  }

  #flushIdle(): void {
    this.#scheduled = undefined;
    for (const queueUrl of [...this.#pending.keys()]) {
      if (!this.#busy.get(queueUrl)) this.#flushQueue(queueUrl);
    }
  }

  #flushQueue(queueUrl: string): void {
    const list = this.#pending.get(queueUrl);
    if (!list || list.length === 0) return;
    this.#pending.delete(queueUrl);
    for (let start = 0; start < list.length; start += 10)
      this.#sendBatch(queueUrl, list.slice(start, start + 10));
  }

  #sendBatch(queueUrl: string, batch: Pending<T>[]): void {
    this.#busy.set(queueUrl, (this.#busy.get(queueUrl) ?? 0) + 1);
    const sending = this.#send(
      queueUrl,
      batch.map((b) => b.item),
    ).then(
      (results) => {
        for (const [i, b] of batch.entries()) {
          const error = results[i];
          if (error) b.reject(error);
          else b.resolve();
        }
      },
      (error: Error) => {
        for (const b of batch) b.reject(error);
      },
    );
    this.#inFlight.add(sending);
    sending.finally(() => {
      this.#inFlight.delete(sending);
      const busy = (this.#busy.get(queueUrl) ?? 1) - 1;
      if (busy > 0) this.#busy.set(queueUrl, busy);
      else {
        this.#busy.delete(queueUrl);
        // What waited behind this batch goes now.
        this.#flushQueue(queueUrl);
      }
    });
  }
}
