import { ClosedError, MessageTooLargeError, TransportError } from '@switchyard/core';
import type { ChannelModel, ConfirmChannel, Message, Options } from 'amqplib';
import type { ConnectionManager } from './connection.ts';
import { describe } from './errors.ts';

const SEQ_HEADER = 'x-switchyard-seq';
/** Reply codes that mean the broker refused (access, not found, precondition, not allowed), not a lost link. */
const REFUSED = new Set([403, 404, 406, 530]);
/** How RabbitMQ words a channel closed over a message above `max_message_size` (406 PRECONDITION_FAILED). */
const TOO_LARGE = /message size (\d+) is larger than (?:configured )?max size (\d+)/;

/** One message to put on the broker, with what must exist before it is sent. */
export interface Outgoing {
  readonly exchange: string;
  readonly routingKey: string;
  readonly content: Buffer;
  readonly options: Options.Publish;
  /** Declares the target (cached by the topology per connection); awaited before a send, once per publish and channel. */
  readonly prepare: () => Promise<void>;
  /** Drops that cached declaration: the broker said the target is gone (deleted behind our back). */
  readonly forget?: () => void;
  /** Reject with `TransportError` when the broker returns it as unroutable. */
  readonly mandatory: boolean;
}

interface Pending {
  readonly seq: number;
  readonly message: Outgoing;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
  done: boolean;
  returned: boolean;
  sentOn: ConfirmChannel | undefined;
}

/**
 * Publishes on one confirm channel and resolves each message on its broker confirm. Messages wait
 * (in order) while the connection is down or blocked; those sent on a channel that died before
 * confirming are sent again on the next one, so a publish during an outage either lands after the
 * reconnect (at least once) or rejects when `publishTimeoutMs` runs out. It never silently vanishes.
 */
export class Publisher {
  readonly #connection: ConnectionManager;
  readonly #timeoutMs: number;
  /** Not yet sent on a live channel, in publish order. */
  readonly #queue: Pending[] = [];
  /** Sent, awaiting the confirm, by seq. */
  readonly #unconfirmed = new Map<number, Pending>();
  #channel: ConfirmChannel | undefined;
  #opening: Promise<ConfirmChannel> | undefined;
  #seq = 0;
  #pumping = false;
  #closed = false;

  constructor(connection: ConnectionManager, timeoutMs: number) {
    this.#connection = connection;
    this.#timeoutMs = timeoutMs;
  }

  publish(message: Outgoing): Promise<void> {
    if (this.#closed) return Promise.reject(new ClosedError('RabbitMQ transport'));
    return new Promise<void>((resolve, reject) => {
      const seq = ++this.#seq;
      const pending: Pending = {
        seq,
        message,
        resolve,
        reject,
        done: false,
        returned: false,
        sentOn: undefined,
        timer: setTimeout(() => {
          const blocked = this.#connection.blockedReason;
          const why = blocked
            ? `the broker blocked publishing (${blocked})`
            : pending.sentOn
              ? 'no confirm from the broker (it may still have been published)'
              : `no connection to the broker${this.#connection.lastError ? ` (${this.#connection.lastError})` : ''}`;
          this.#finish(pending, new TransportError(`Publish timed out after ${this.#timeoutMs} ms: ${why}`));
        }, this.#timeoutMs),
      };
      this.#queue.push(pending);
      this.#pump();
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    const closed = new ClosedError('RabbitMQ transport');
    for (const pending of [...this.#queue, ...this.#unconfirmed.values()]) this.#finish(pending, closed);
    this.#queue.length = 0;
    this.#unconfirmed.clear();
    const channel = this.#channel;
    this.#channel = undefined;
    await channel?.close().catch(() => {});
  }

  #finish(pending: Pending, error?: Error): void {
    if (pending.done) return;
    pending.done = true;
    clearTimeout(pending.timer);
    this.#unconfirmed.delete(pending.seq);
    if (error) pending.reject(error);
    else pending.resolve();
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    // The target last prepared, and on which channel: the messages of one publish share it, so they
    // wait for no promise each. It is awaited again for another publish or a new channel; the
    // topology itself declares again only on a new connection (or after forget()).
    let prepared: (() => Promise<void>) | undefined;
    let preparedOn: ConfirmChannel | undefined;
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        const pending = this.#queue[0]!;
        if (pending.done) {
          this.#queue.shift();
          continue;
        }
        let channel: ConfirmChannel;
        try {
          if (this.#connection.blockedReason !== undefined) await this.#connection.whenUnblocked();
          channel = this.#channel ?? (await this.#openChannel());
          if (pending.message.prepare !== prepared || channel !== preparedOn) {
            await pending.message.prepare();
            prepared = pending.message.prepare;
            preparedOn = channel;
          }
        } catch (error) {
          if (this.#closed) return;
          if (
            error instanceof TransportError &&
            REFUSED.has((error.cause as { code?: number } | undefined)?.code ?? 0)
          ) {
            // The broker refused the declaration itself: retrying will not change its mind.
            this.#queue.shift();
            this.#finish(pending, error);
          } else {
            // Connection or channel lost on the way: wait for the next one and try again, not in a tight loop.
            await this.#connection.whenOpen().catch(() => {});
            await new Promise((resolve) => setTimeout(resolve, 50).unref());
          }
          continue;
        }
        if (channel !== this.#channel || pending.done) continue;
        this.#queue.shift();
        if (!this.#send(channel, pending)) await this.#drained(channel);
      }
    } finally {
      this.#pumping = false;
      if (this.#queue.length > 0 && !this.#closed) void this.#pump();
    }
  }

  /** Writes one message; false when the channel's buffer is full and the caller should wait for 'drain'. */
  #send(channel: ConfirmChannel, pending: Pending): boolean {
    const { message } = pending;
    const options = message.mandatory
      ? {
          ...message.options,
          mandatory: true,
          headers: { ...message.options.headers, [SEQ_HEADER]: pending.seq },
        }
      : message.options;
    pending.sentOn = channel;
    pending.returned = false;
    this.#unconfirmed.set(pending.seq, pending);
    try {
      return channel.publish(message.exchange, message.routingKey, message.content, options, (error) => {
        if (pending.sentOn !== channel) return;
        if (error === null || error === undefined) {
          this.#finish(
            pending,
            pending.returned
              ? new TransportError(
                  `No queue is bound to '${message.exchange}': the broker returned the message`,
                )
              : undefined,
          );
        } else if (String((error as Error).message) === 'message nacked') {
          this.#finish(
            pending,
            new TransportError(`RabbitMQ refused the message (basic.nack) on '${message.exchange}'`),
          );
        } else {
          this.#requeue(pending);
        }
      });
    } catch (error) {
      if ((error as Error).name === 'IllegalOperationError') {
        // The channel closed between opening and writing: the message was not sent.
        this.#requeue(pending);
      } else {
        this.#finish(
          pending,
          new TransportError(`Cannot publish to '${message.exchange}': ${describe(error)}`),
        );
      }
      return true;
    }
  }

  /** Back in the queue at its place by seq, so messages are sent again in their publish order. */
  #requeue(pending: Pending): void {
    if (pending.done) return;
    this.#unconfirmed.delete(pending.seq);
    pending.sentOn = undefined;
    let index = this.#queue.findIndex((p) => p.seq > pending.seq);
    if (index < 0) index = this.#queue.length;
    this.#queue.splice(index, 0, pending);
    void this.#pump();
  }

  #drained(channel: ConfirmChannel): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        channel.off('drain', done);
        channel.off('close', done);
        resolve();
      };
      channel.on('drain', done);
      channel.on('close', done);
    });
  }

  #openChannel(): Promise<ConfirmChannel> {
    if (this.#channel) return Promise.resolve(this.#channel);
    this.#opening ??= this.#connection
      .whenOpen()
      .then((model: ChannelModel) => model.createConfirmChannel())
      .then(
        (channel) => {
          this.#opening = undefined;
          // 404 closes the channel when an exchange was deleted behind our back: the topology's
          // declaration is stale, so the resend declares it again instead of failing until timeout.
          channel.on('error', (error: { code?: number; message?: string }) => {
            if (error?.code === 404) this.#forgetTargetsOf(channel);
            const tooLarge = error?.code === 406 ? TOO_LARGE.exec(String(error.message)) : null;
            if (tooLarge) this.#refuseTooLarge(channel, Number(tooLarge[1]), Number(tooLarge[2]));
          });
          channel.on('return', (returned: Message) => this.#onReturn(returned));
          channel.on('close', () => this.#onClose(channel));
          if (this.#closed) {
            void channel.close().catch(() => {});
            throw new ClosedError('RabbitMQ transport');
          }
          this.#channel = channel;
          return channel;
        },
        (error: unknown) => {
          this.#opening = undefined;
          throw error instanceof ClosedError
            ? error
            : new TransportError(`Cannot open a publish channel: ${describe(error)}`);
        },
      );
    return this.#opening;
  }

  /**
   * The broker closed the channel over one message above its max_message_size. 'error' comes before
   * 'close', so that message is finished here with a typed error and the close sends again only the
   * others: resent, it would close every new channel until publishTimeoutMs (and hold the rest).
   */
  #refuseTooLarge(channel: ConfirmChannel, size: number, limit: number): void {
    const sent = [...this.#unconfirmed.values()].filter((p) => p.sentOn === channel);
    // The broker counts the body only; the largest over its limit if none has exactly that size.
    const culprit =
      sent.find((p) => p.message.content.length === size) ??
      sent
        .filter((p) => p.message.content.length > limit)
        .sort((a, b) => b.message.content.length - a.message.content.length)[0];
    if (culprit) this.#finish(culprit, new MessageTooLargeError(size, limit));
  }

  #forgetTargetsOf(channel: ConfirmChannel): void {
    for (const pending of this.#unconfirmed.values())
      if (pending.sentOn === channel) pending.message.forget?.();
  }

  #onReturn(returned: Message): void {
    const seq = Number(returned.properties.headers?.[SEQ_HEADER]);
    const pending = this.#unconfirmed.get(seq);
    // basic.return always precedes the basic.ack of the same message on the channel.
    if (pending) pending.returned = true;
  }

  #onClose(channel: ConfirmChannel): void {
    if (this.#channel === channel) this.#channel = undefined;
    // amqplib calls the pending confirm callbacks with 'channel closed' just before: they are queued
    // again already. Anything sent on it and not requeued (no callback yet) goes back too.
    for (const pending of [...this.#unconfirmed.values()])
      if (pending.sentOn === channel) this.#requeue(pending);
    if (!this.#closed) void this.#pump();
  }
}
