import type { Batcher } from './batcher.ts';

/** The visibility change one batch entry asks for. */
export interface VisibilityChange {
  readonly receiptHandle: string;
  readonly seconds: number;
}

/** A received message not yet settled: this process holds it invisible to other members. */
export interface Lease {
  readonly queueUrl: string;
  readonly receiptHandle: string;
  /** When SQS makes the message visible again unless extended (ms since epoch). */
  deadline: number;
  extending: boolean;
}

/**
 * Keeps the leases of unsettled messages alive: a handler that runs past the visibility timeout
 * would otherwise see its message redelivered to another member. One timer for all leases, armed
 * only while there are any; each lease is extended when half its timeout is left.
 */
export class Leases {
  readonly #visibility: Batcher<VisibilityChange>;
  readonly #timeoutMs: number;
  readonly #leases = new Set<Lease>();
  #timer: NodeJS.Timeout | undefined;

  constructor(visibility: Batcher<VisibilityChange>, timeoutSeconds: number) {
    this.#visibility = visibility;
    this.#timeoutMs = timeoutSeconds * 1000;
  }

  get size(): number {
    return this.#leases.size;
  }

  /** Track a message received at `receivedAt` with the queue's visibility timeout. */
  add(queueUrl: string, receiptHandle: string, receivedAt: number): Lease {
    const lease: Lease = {
      queueUrl,
      receiptHandle,
      deadline: receivedAt + this.#timeoutMs,
      extending: false,
    };
    this.#leases.add(lease);
    if (!this.#timer) {
      this.#timer = setInterval(() => this.#extend(), Math.max(250, Math.floor(this.#timeoutMs / 4)));
      this.#timer.unref();
    }
    return lease;
  }

  /** Stop extending: the message was settled (or handed back). */
  remove(lease: Lease): void {
    this.#leases.delete(lease);
    if (this.#leases.size === 0 && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  /** Make every held message visible again at once, so other members get it without waiting. */
  releaseAll(): Promise<void> {
    const leases = [...this.#leases];
    for (const lease of leases) this.remove(lease);
    return Promise.allSettled(
      leases.map((l) => this.#visibility.add(l.queueUrl, { receiptHandle: l.receiptHandle, seconds: 0 })),
    ).then(() => undefined);
  }

  #extend(): void {
    const now = Date.now();
    const seconds = this.#timeoutMs / 1000;
    for (const lease of this.#leases) {
      if (lease.extending || lease.deadline - now > this.#timeoutMs / 2) continue;
      lease.extending = true;
      this.#visibility.add(lease.queueUrl, { receiptHandle: lease.receiptHandle, seconds }).then(
        () => {
          lease.deadline = now + this.#timeoutMs;
          lease.extending = false;
        },
        // Tried again on the next tick; a lease past SQS's 12-hour cap stays failed and the
        // message is redelivered, which at-least-once allows.
        () => {
          lease.extending = false;
        },
      );
    }
  }
}
