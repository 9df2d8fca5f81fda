import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';
import { ClosedError, redactUrl, TransportError } from '@switchyard/core';
import { bounded } from '@switchyard/core/transport';
import type { ResolvedOptions } from './options.ts';

export type ConnectionEvent = 'disconnect' | 'reconnect' | 'close';

/**
 * One NATS connection and its JetStream contexts. The client reconnects on its own; this counts the
 * connections it went through (`epoch`) so a delivery can tell whether it arrived on the current one.
 */
export class Connection {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  #epoch = 0;
  #connected = true;
  #closed = false;
  readonly #listeners = new Set<(event: ConnectionEvent) => void>();
  #confirming: Promise<void> | undefined;

  private constructor(nc: NatsConnection, jsm: JetStreamManager, options: ResolvedOptions) {
    this.nc = nc;
    this.jsm = jsm;
    this.js = jetstream(nc, { timeout: options.requestTimeoutMs });
    void this.#watch();
    nc.closed().then(() => this.#onClosed());
  }

  static async open(url: URL, options: ResolvedOptions): Promise<Connection> {
    let nc: NatsConnection;
    try {
      nc = await connect(connectOptions(url, options));
    } catch (error) {
      const why = isTimeout(error)
        ? `no answer within ${options.connectTimeoutMs} ms (connectTimeoutMs)`
        : (error as Error).message;
      throw new TransportError(`Cannot connect to NATS at ${redactUrl(url)}: ${why}`, {
        cause: error,
      });
    }
    try {
      // Fails fast, and typed, when the server or account has no JetStream.
      const jsm = await jetstreamManager(nc, { timeout: options.requestTimeoutMs });
      return new Connection(nc, jsm, options);
    } catch (error) {
      await nc.close();
      throw new TransportError(
        `JetStream is not available at ${redactUrl(url)}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }

  /** Increases each time the connection is lost: deliveries of an older epoch cannot be settled. */
  get epoch(): number {
    return this.#epoch;
  }

  get connected(): boolean {
    return this.#connected && !this.#closed;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Listen for connection changes; returns the function that stops listening. */
  on(listener: (event: ConnectionEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Resolves when the connection of `epoch` is lost (at once if it already is). `cancel` stops
   * listening. Lets a request that was in flight on a dying socket be sent again, not timed out.
   */
  lostSince(epoch: number): { readonly lost: Promise<void>; cancel(): void } {
    if (this.#epoch !== epoch) return { lost: Promise.resolve(), cancel: () => {} };
    let cancel = () => {};
    const lost = new Promise<void>((resolve) => {
      cancel = this.on(() => {
        if (this.#epoch !== epoch) {
          cancel();
          resolve();
        }
      });
    });
    return { lost, cancel };
  }

  /** Resolves once connected (at once if connected); rejects when closed or after `timeoutMs`. */
  whenConnected(timeoutMs: number): Promise<void> {
    if (this.#closed) return Promise.reject(new ClosedError('nats transport'));
    if (this.#connected) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        stop();
        reject(new TransportError(`NATS did not reconnect within ${timeoutMs} ms`));
      }, timeoutMs);
      const stop = this.on((event) => {
        if (event === 'disconnect') return;
        clearTimeout(timer);
        stop();
        if (event === 'reconnect') resolve();
        else reject(new ClosedError('nats transport'));
      });
    });
  }

  /**
   * Resolves once the server has read everything written before this call: one PING/PONG shared by
   * all callers of the same tick. A later caller gets a new PING, since its bytes follow this one.
   */
  confirm(timeoutMs: number): Promise<void> {
    this.#confirming ??= Promise.resolve().then(() => {
      this.#confirming = undefined;
      return withTimeout(this.nc.flush(), timeoutMs);
    });
    return this.#confirming;
  }

  /** Flush what is buffered (bounded by `timeoutMs`), then close the socket. */
  async close(timeoutMs: number): Promise<void> {
    if (this.nc.isClosed()) return;
    if (this.#connected) await bounded(this.nc.flush(), timeoutMs);
    await this.nc.close();
  }

  async #watch(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === 'disconnect') {
        this.#epoch++;
        this.#connected = false;
        this.#emit('disconnect');
      } else if (status.type === 'reconnect') {
        this.#connected = true;
        this.#emit('reconnect');
      }
    }
  }

  #onClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#connected = false;
    this.#epoch++;
    this.#emit('close');
  }

  #emit(event: ConnectionEvent): void {
    for (const listener of [...this.#listeners]) listener(event);
  }
}

function connectOptions(url: URL, options: ResolvedOptions): NodeConnectionOptions {
  const credentials: Partial<NodeConnectionOptions> = {};
  const user = decodeURIComponent(url.username);
  const pass = decodeURIComponent(url.password);
  if (user && pass) Object.assign(credentials, { user, pass });
  else if (user) credentials.token = user;
  return {
    servers: url.host || '127.0.0.1:4222',
    name: 'switchyard',
    // A transport outlives outages: keep reconnecting until closed, and notice a dead peer in ~20 s.
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1_000,
    pingInterval: 10_000,
    maxPingOut: 2,
    // nats.js otherwise builds two Error objects (stack traces included) for every request - each
    // publish and each ack - to point a timeout at its caller; that was ~15 % of a consumer's CPU.
    // Our errors name the operation and topic instead. `connection: { noAsyncTraces: false }` restores them.
    noAsyncTraces: true,
    // nats.js waits 20 s by default for a peer that accepts TCP and never sends INFO.
    timeout: options.connectTimeoutMs,
    ...credentials,
    ...options.connection,
  };
}

async function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function isTimeout(error: unknown): boolean {
  const { name, code, message } = error as { name?: string; code?: string; message?: string };
  return name === 'TimeoutError' || code === 'TIMEOUT' || /timeout/i.test(String(message));
}
