import { ClosedError, redactUrl, TransportError } from '@switchyard/core';
import { type ChannelModel, connect } from 'amqplib';
import { describe } from './errors.ts';
import type { ResolvedOptions } from './options.ts';

/** Told about every new connection, e.g. to re-declare topology and consume again. */
export type OpenListener = (model: ChannelModel) => void;

interface Waiter {
  readonly resolve: (model: ChannelModel) => void;
  readonly reject: (error: Error) => void;
}

/**
 * One AMQP connection, kept up: after a loss it reconnects with exponential backoff and full jitter
 * until closed. Also tracks `connection.blocked`, during which publishing must wait.
 */
export class ConnectionManager {
  readonly #url: string;
  readonly #options: ResolvedOptions;
  readonly #listeners = new Set<OpenListener>();
  #model: ChannelModel | undefined;
  #waiters: Waiter[] = [];
  #unblockWaiters: Array<() => void> = [];
  #blockedReason: string | undefined;
  #attempt = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  /** Whether a first attempt was made: start() or, for a connection opened on first use, whenOpen(). */
  #started = false;
  #lastError: Error | undefined;

  constructor(url: string, options: ResolvedOptions) {
    this.#url = url;
    this.#options = options;
  }

  /** The first connection: fails fast instead of retrying, so a wrong URL surfaces at connect(). */
  async start(): Promise<void> {
    this.#started = true;
    this.#adopt(await this.#open());
  }

  get current(): ChannelModel | undefined {
    return this.#model;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get blockedReason(): string | undefined {
    return this.#blockedReason;
  }

  onOpen(listener: OpenListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The live connection, or the next one; rejects with ClosedError once closed. */
  whenOpen(): Promise<ChannelModel> {
    if (this.#closed) return Promise.reject(new ClosedError('RabbitMQ transport'));
    if (this.#model) return Promise.resolve(this.#model);
    if (!this.#started) this.#firstAttempt();
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Resolves once the broker lifts `connection.blocked` (at once when not blocked), or the connection drops. */
  whenUnblocked(): Promise<void> {
    if (this.#blockedReason === undefined || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#unblockWaiters.push(resolve));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const closed = new ClosedError('RabbitMQ transport');
    for (const waiter of this.#waiters.splice(0)) waiter.reject(closed);
    this.#unblock();
    const model = this.#model;
    this.#model = undefined;
    if (model) {
      try {
        await model.close();
      } catch {
        // Already closing or closed by the peer: nothing is left to release.
      }
    }
  }

  async #open(): Promise<ChannelModel> {
    try {
      return await connect(withHeartbeat(this.#url, this.#options.heartbeatSeconds), {
        ...this.#options.socket,
        // amqplib's socket idle timeout, cleared once the handshake is done: it covers both.
        timeout: this.#options.connectTimeoutMs,
        clientProperties: { connection_name: this.#options.connectionName, product: 'switchyard' },
      } as Parameters<typeof connect>[1]);
    } catch (error) {
      const why =
        (error as Error)?.message === 'connect ETIMEDOUT'
          ? `no answer within ${this.#options.connectTimeoutMs} ms (connectTimeoutMs)`
          : describe(error);
      throw new TransportError(`Cannot connect to RabbitMQ at ${redactUrl(this.#url)}: ${why}`, {
        cause: error,
      });
    }
  }

  /**
   * A connection opened on first use (the consumers'): nobody awaits connect() for it, so a failed
   * first attempt goes into the reconnect backoff like a lost connection, and its waiters keep waiting.
   */
  #firstAttempt(): void {
    this.#started = true;
    this.#open().then(
      (model) => this.#adopt(model),
      (error: Error) => {
        this.#lastError = error;
        if (!this.#closed) this.#schedule();
      },
    );
  }

  #adopt(model: ChannelModel): void {
    if (this.#closed) {
      void model.close().catch(() => {});
      return;
    }
    coalesceWrites(model);
    this.#model = model;
    this.#attempt = 0;
    this.#blockedReason = undefined;
    // amqplib emits 'error' before 'close' on a connection-level error; without a listener it would throw.
    model.on('error', (error: Error) => {
      this.#lastError = error;
    });
    model.on('close', () => this.#lost(model));
    model.on('blocked', (reason: string) => {
      this.#blockedReason = reason || 'resource alarm';
    });
    model.on('unblocked', () => this.#unblock());
    for (const waiter of this.#waiters.splice(0)) waiter.resolve(model);
    for (const listener of this.#listeners) listener(model);
  }

  #unblock(): void {
    this.#blockedReason = undefined;
    for (const resume of this.#unblockWaiters.splice(0)) resume();
  }

  #lost(model: ChannelModel): void {
    if (this.#model !== model) return;
    this.#model = undefined;
    this.#unblock();
    if (!this.#closed) this.#schedule();
  }

  #schedule(): void {
    const ceiling = Math.min(
      this.#options.reconnectMaxMs,
      this.#options.reconnectInitialMs * 2 ** this.#attempt,
    );
    this.#attempt += 1;
    // Full jitter, with a floor so a flapping broker is not hammered by many clients at 0 ms.
    const delay = Math.max(10, Math.round(Math.random() * ceiling));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#open().then(
        (model) => this.#adopt(model),
        (error: Error) => {
          this.#lastError = error;
          if (!this.#closed) this.#schedule();
        },
      );
    }, delay);
  }

  /** Why the connection was last lost, redacted: for error messages of operations that gave up. */
  get lastError(): string | undefined {
    return this.#lastError ? describe(this.#lastError) : undefined;
  }
}

/** What `coalesceWrites` reaches inside amqplib's connection (amqplib 2.x: lib/connection.js, lib/mux.js). */
interface AmqplibInternals {
  readonly connection?: {
    readonly stream?: { cork?: () => void; uncork?: () => void };
    readonly muxer?: { _readIncoming?: () => void };
  };
}

/**
 * amqplib hands the socket one write per frame: once per event-loop turn its muxer moves what the
 * channels queued to the socket, each frame with its own `socket.write`. With TCP_NODELAY every one
 * of those became a packet of its own (a batch of 100 publishes, 100 packets, and the broker woken
 * for each), the likely reason `noDelay` cost 16-23 % of batched and end-to-end throughput. Corked
 * for that turn, the socket gives the kernel a `writev` per high-water mark (64 KiB). Nothing is reordered or held past the
 * turn. Should amqplib's internals change shape this does nothing and frames go out one by one.
 */
function coalesceWrites(model: ChannelModel): void {
  const connection = (model as unknown as AmqplibInternals).connection;
  const stream = connection?.stream;
  const muxer = connection?.muxer;
  const readIncoming = muxer?._readIncoming;
  if (!stream?.cork || !stream.uncork || !muxer || typeof readIncoming !== 'function') return;
  muxer._readIncoming = function corked(this: unknown) {
    stream.cork!();
    try {
      readIncoming.call(this);
    } finally {
      stream.uncork!();
    }
  };
}

/**
 * amqplib takes the heartbeat from the URL's `?heartbeat=` only (a `heartbeat` socket option is
 * ignored, which left every connection on the broker's 60 s). A string that is no URL goes as is:
 * amqplib refuses it.
 */
function withHeartbeat(url: string, seconds: number): string {
  if (!URL.canParse(url)) return url;
  const target = new URL(url);
  target.searchParams.set('heartbeat', String(seconds));
  return target.toString();
}
