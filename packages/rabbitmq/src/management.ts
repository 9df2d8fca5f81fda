import { InvalidUrlError, redactUrl, TransportError } from '@switchyard/core';

/** What the management API says of one queue (fields it leaves out stay undefined). */
export interface QueueFigures {
  readonly ready: number;
  readonly unacked: number;
  readonly consumers: number | undefined;
  /** Acks since the queue's stats began (message_stats.ack), where the broker collects them. */
  readonly acked: number | undefined;
}

const TIMEOUT_MS = 5_000;

/**
 * The management plugin's HTTP API, read-only. The credentials live in the Authorization header
 * only: every URL an error may show is the bare base URL.
 */
export class ManagementApi {
  readonly #base: URL;
  readonly #authorization: string;
  readonly #vhost: string;

  /** `managementUrl` as configured; `amqpUrl` lends its credentials (when the former has none) and its vhost. */
  constructor(managementUrl: string, amqpUrl: string) {
    let base: URL;
    let amqp: URL;
    try {
      base = new URL(managementUrl);
      amqp = new URL(amqpUrl);
    } catch {
      throw new InvalidUrlError(`Invalid RabbitMQ managementUrl: ${redactUrl(managementUrl)}`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new InvalidUrlError(`RabbitMQ managementUrl must be http(s): ${redactUrl(managementUrl)}`);
    }
    const from = base.username ? base : amqp.username ? amqp : undefined;
    const user = from ? decodeURIComponent(from.username) : 'guest';
    const password = from ? decodeURIComponent(from.password) : 'guest';
    this.#authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    base.username = '';
    base.password = '';
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    this.#base = base;
    // amqp://host/vhost: the vhost is the path, percent-encoded; none (or `/`) is the default `/`.
    const path = amqp.pathname.slice(1);
    this.#vhost = path === '' ? '/' : decodeURIComponent(path);
  }

  /** The queue's figures; undefined when the broker has no such queue. */
  async queue(name: string): Promise<QueueFigures | undefined> {
    const url = new URL(
      `api/queues/${encodeURIComponent(this.#vhost)}/${encodeURIComponent(name)}`,
      this.#base,
    );
    let response: Response;
    try {
      response = await fetch(url, {
        headers: { authorization: this.#authorization, accept: 'application/json' },
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      throw new TransportError(
        `RabbitMQ management API at ${this.#base.href} did not answer: ${(error as Error).message}`,
        { cause: error },
      );
    }
    if (response.status === 404) return undefined;
    if (!response.ok) {
      await response.body?.cancel();
      const hint = response.status === 401 ? ' (check the user and password, and its monitoring tag)' : '';
      throw new TransportError(
        `RabbitMQ management API at ${this.#base.href} answered ${response.status}${hint}`,
      );
    }
    const queue = (await response.json()) as Record<string, unknown>;
    const stats = (queue.message_stats ?? {}) as Record<string, unknown>;
    return {
      ready: numberOr(queue.messages_ready, 0),
      unacked: numberOr(queue.messages_unacknowledged, 0),
      consumers: numberOr(queue.consumers, undefined),
      acked: numberOr(stats.ack, undefined),
    };
  }
}

function numberOr<T>(value: unknown, fallback: T): number | T {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}
