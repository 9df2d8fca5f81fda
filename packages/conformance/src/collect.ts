import { type Delivery, TransportError } from '@switchyard/core';
import type { Observable, Subscription } from 'rxjs';

export interface CollectOptions<T> {
  /** Stop once this many distinct event ids arrived. */
  readonly count?: number;
  /** Instead of `count`: stop (after `idleMs` quiet) once this holds, e.g. a union across members is complete. */
  readonly stopWhen?: () => boolean;
  /** Stop when nothing arrived for this long (after the count, to catch duplicates). Default: 1 500 ms. */
  readonly idleMs?: number;
  /** Give up after this long, returning what arrived. Default: 60 s. */
  readonly timeoutMs?: number;
  /**
   * What to do with each delivery; default: ack it. An ack the transport refuses with a
   * TransportError (settling failed, e.g. Kafka lost the partition before the offset's commit: the
   * broker hands the record out again) is kept in `unsettled`; any other failure ends the read.
   */
  readonly onDelivery?: (delivery: Delivery<T>, index: number) => void | Promise<void>;
}

export interface Collected<T> {
  readonly deliveries: Delivery<T>[];
  /** Distinct ids (for invalid messages: their body as hex), in first-arrival order. */
  readonly ids: string[];
  /** Deliveries of an id that arrived already. */
  readonly duplicates: Delivery<T>[];
  /** Deliveries whose default ack the transport refused with a TransportError (see `onDelivery`). */
  readonly unsettled: Delivery<T>[];
}

export function idOf(delivery: Delivery): string {
  return delivery.event?.id ?? `raw:${Buffer.from(delivery.message.body).toString('hex')}`;
}

/**
 * Read a delivery stream until `count` distinct ids arrived and then `idleMs` passed quietly,
 * or until `timeoutMs`. No fixed sleeps: the stream's own pace decides.
 */
export function collect<T>(
  deliveries$: Observable<Delivery<T>>,
  options: CollectOptions<T> = {},
): Promise<Collected<T>> {
  const idleMs = options.idleMs ?? 1_500;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const result: Collected<T> = { deliveries: [], ids: [], duplicates: [], unsettled: [] };
  const onDelivery =
    options.onDelivery ??
    ((d: Delivery<T>) =>
      d.ack().catch((error: unknown) => {
        if (!(error instanceof TransportError)) throw error;
        result.unsettled.push(d);
      }));
  const seen = new Set<string>();
  return new Promise((resolve, reject) => {
    let idle: NodeJS.Timeout | undefined;
    let subscription: Subscription | undefined;
    const finish = (error?: unknown) => {
      clearTimeout(idle);
      clearTimeout(deadline);
      clearInterval(poll);
      subscription?.unsubscribe();
      if (error) reject(error);
      else resolve(result);
    };
    const deadline = setTimeout(() => finish(), timeoutMs);
    // With stopWhen, what ends this member's read may happen on another member: look again now and then.
    const poll = options.stopWhen
      ? setInterval(() => {
          if (!idle) armIdle();
        }, 100)
      : undefined;
    const armIdle = () => {
      clearTimeout(idle);
      idle = undefined;
      const enough = options.stopWhen
        ? options.stopWhen()
        : options.count === undefined || seen.size >= options.count;
      if (enough) idle = setTimeout(() => finish(), idleMs);
    };
    subscription = deliveries$.subscribe({
      next: (delivery) => {
        const id = idOf(delivery);
        if (seen.has(id)) result.duplicates.push(delivery);
        else {
          seen.add(id);
          result.ids.push(id);
        }
        result.deliveries.push(delivery);
        Promise.resolve(onDelivery(delivery, result.deliveries.length - 1))
          .then(armIdle)
          .catch(finish);
        armIdle();
      },
      error: (error: unknown) => finish(error),
    });
    armIdle();
  });
}

/** Resolve when `predicate` holds, polling; reject with `message` after `timeoutMs`. */
export async function until(predicate: () => boolean, timeoutMs: number, message: string): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) throw new Error(`Timed out after ${timeoutMs} ms: ${message}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves once `read()` has not changed for `idleMs`: "nothing more arrives" without a fixed sleep. */
export async function quiet(read: () => number, idleMs: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = read();
  let since = Date.now();
  while (Date.now() - since < idleMs) {
    if (Date.now() > deadline) throw new Error('Never went quiet');
    await new Promise((resolve) => setTimeout(resolve, 10));
    const now = read();
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
}
