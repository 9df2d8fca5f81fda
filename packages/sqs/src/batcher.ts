type Pending<T> = { item: T; size: number; resolve: () => void; reject: (e: Error) => void };

/** What waits for one queue: its requests in order and their bytes together. */
type Waiting<T> = { list: Pending<T>[]; bytes: number };

/** Both SendMessageBatch and the Delete/ChangeMessageVisibility batches take at most 10 entries. */
const BATCH_ENTRIES = 10;

export interface BatcherOptions<T> {
  /** Bytes one item counts against `maxBytes` (SendMessageBatch: the message as SQS counts it). Default: 0. */
  readonly sizeOf?: (item: T) => number;
  /** Most bytes in one batch; an item larger than this alone still goes, in a batch of its own. Default: no limit. */
  readonly maxBytes?: number;
}

/**
 * Gathers single requests per queue into batch calls of up to 10 (SendMessageBatch,
 * DeleteMessageBatch, ChangeMessageVisibilityBatch), the way Nagle's algorithm gathers bytes: with
 * nothing in flight for a queue, what was added in this turn of the event loop goes out at once;
 * while a partial batch is in flight, later ones wait for it (or until 10, or `maxBytes`, are
 * ready), so a busy sender sends full batches and an idle one adds no delay. Each `add` settles
 * with its own entry's outcome.
 */
export class Batcher<T> {
  readonly #send: (queueUrl: string, items: readonly T[]) => Promise<ReadonlyArray<Error | undefined>>;
  readonly #sizeOf: ((item: T) => number) | undefined;
  readonly #maxBytes: number;
  readonly #pending = new Map<string, Waiting<T>>();
  /** Batches in flight per queue. */
  readonly #busy = new Map<string, number>();
  readonly #inFlight = new Set<Promise<void>>();
  #scheduled: NodeJS.Immediate | undefined;

  constructor(
    send: (queueUrl: string, items: readonly T[]) => Promise<ReadonlyArray<Error | undefined>>,
    options: BatcherOptions<T> = {},
  ) {
    this.#send = send;
    this.#sizeOf = options.sizeOf;
    this.#maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
  }

  add(queueUrl: string, item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const size = this.#sizeOf?.(item) ?? 0;
      let waiting = this.#pending.get(queueUrl);
      // What waits already is a full batch if this one would take it over the byte limit.
      if (waiting && waiting.list.length > 0 && waiting.bytes + size > this.#maxBytes) {
        this.#flushQueue(queueUrl);
        waiting = undefined;
      }
      if (!waiting) {
        waiting = { list: [], bytes: 0 };
        this.#pending.set(queueUrl, waiting);
      }
      waiting.list.push({ item, size, resolve, reject });
      waiting.bytes += size;
      if (waiting.list.length >= BATCH_ENTRIES || waiting.bytes >= this.#maxBytes) this.#flushQueue(queueUrl);
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
    const waiting = this.#pending.get(queueUrl);
    if (!waiting) return;
    this.#pending.delete(queueUrl);
    let batch: Pending<T>[] = [];
    let bytes = 0;
    for (const pending of waiting.list) {
      if (batch.length === BATCH_ENTRIES || (batch.length > 0 && bytes + pending.size > this.#maxBytes)) {
        this.#sendBatch(queueUrl, batch);
        batch = [];
        bytes = 0;
      }
      batch.push(pending);
      bytes += pending.size;
    }
    if (batch.length > 0) this.#sendBatch(queueUrl, batch);
  }

  #sendBatch(queueUrl: string, batch: Pending<T>[]): void {
    this.#busy.set(queueUrl, (this.#busy.get(queueUrl) ?? 0) + 1);
    let sent: Promise<ReadonlyArray<Error | undefined>>;
    try {
      sent = this.#send(
        queueUrl,
        batch.map((b) => b.item),
      );
    } catch (error) {
      sent = Promise.reject(error);
    }
    const sending = sent.then(
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
