import type { PubAck } from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/transport-node';
import { TransportError } from '@switchyard/core';
import type { Connection } from './connection.ts';
import type { ResolvedOptions } from './options.ts';
import type { Topology } from './topology.ts';

/** How often one publish is sent again after the connection it went out on was lost. */
const MAX_RESENDS = 3;
const CONNECTION_LOST = Symbol('connection lost');

/** JetStream publishes that survive a lost connection (resent, de-duplicated by Nats-Msg-Id) and a deleted stream. */
export class Publisher {
  readonly #connection: Connection;
  readonly #topology: Topology;
  readonly #options: ResolvedOptions;

  constructor(connection: Connection, topology: Topology, options: ResolvedOptions) {
    this.#connection = connection;
    this.#topology = topology;
    this.#options = options;
  }

  /**
   * Publish one message to `subject` (the stream of `topic`), sent again if its connection was lost.
   * Resolves `'duplicate'` when the stream dropped it as a repeat of an event id stored earlier
   * within its duplicate window. A resend's duplicate is not one: it is our own first copy.
   */
  async publish(
    topic: string,
    subject: string,
    body: Uint8Array,
    headers: MsgHdrs,
  ): Promise<'stored' | 'duplicate'> {
    let streamRecreated = false;
    for (let resend = 0; ; resend++) {
      try {
        const ack = await this.#publishOnConnection(subject, body, headers);
        return ack.duplicate && resend === 0 ? 'duplicate' : 'stored';
      } catch (error) {
        if (error === CONNECTION_LOST && resend < MAX_RESENDS) {
          // Sent on a socket that died: it may or may not have been stored. Send it again once
          // reconnected; its Nats-Msg-Id makes the stream drop the second copy if the first landed.
          continue;
        }
        if (error === CONNECTION_LOST) {
          throw new TransportError(`Connection lost ${MAX_RESENDS + 1} times while publishing to '${topic}'`);
        }
        // No stream answers: it was deleted since we cached it. Re-create it and try once more.
        if (!isNoStream(error) || streamRecreated) throw error;
        streamRecreated = true;
        this.#topology.forget(topic);
        await this.#topology.ensureStream(topic);
      }
    }
  }

  /** One publish; rejects with CONNECTION_LOST as soon as the connection it went out on is lost. */
  async #publishOnConnection(subject: string, body: Uint8Array, headers: MsgHdrs): Promise<PubAck> {
    // The client drops what is written while it is disconnected (each dial resets its buffer), so
    // a publish waits for the connection rather than vanish into that buffer.
    await this.#connection.whenConnected(this.#options.requestTimeoutMs);
    const { lost, cancel } = this.#connection.lostSince(this.#connection.epoch);
    const sending = this.#connection.js.publish(subject, body, {
      headers,
      timeout: this.#options.requestTimeoutMs,
    });
    try {
      return await Promise.race([sending, lost.then(() => Promise.reject(CONNECTION_LOST))]);
    } catch (error) {
      // The abandoned request still settles later (PubAck or timeout); nobody waits for it.
      if (error === CONNECTION_LOST) sending.catch(() => {});
      throw error;
    } finally {
      cancel();
    }
  }
}

function isNoStream(error: unknown): boolean {
  return (
    error instanceof Error && (error.name === 'JetStreamNotEnabled' || /no responders/i.test(error.message))
  );
}
