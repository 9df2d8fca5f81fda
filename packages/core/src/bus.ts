import { Observable, Subject } from 'rxjs';
import { decode, encodeChecked } from './codec.ts';
import { BusDelivery, type Delivery, type DeliveryOrigin, Unsettled } from './delivery.ts';
import { ClosedError, MessageTooLargeError, UnsupportedOptionError } from './errors.ts';
import { createEvent, type EventInput, type SwitchyardEvent } from './event.ts';
import { intake } from './intake.ts';
import { bounded } from './kit/bounded.ts';
import { type Logger, leveledLogger } from './logger.ts';
import { assertGroupName, assertTopicName } from './names.ts';
import { type DeadLetters, type DeadLettersOptions, deadLetters } from './ops/dead-letters.ts';
import { type InspectOptions, inspectGroup } from './ops/inspect.ts';
import { InspectionWindows } from './ops/inspect-window.ts';
import { type Instrumentation, instrumentedSend } from './ops/instrumentation.ts';
import type { Inspection } from './ops/stats.ts';
import { nonNegative, positiveInteger } from './option-checks.ts';
import { SchemaRegistry } from './schemas.ts';
import {
  encodedSize,
  encodedSizeBound,
  type PublishReceipt,
  type Transport,
  type TransportDelivery,
  type WireMessage,
} from './transport.ts';

export interface ConsumeOptions {
  /** Consumer group: members of one group compete, each group gets every event. */
  readonly group: string;
  /** Most deliveries held unsettled by this member (queued or in a handler). Default: 256. */
  readonly prefetch?: number;
  /** Where a group that does not exist yet starts. Default: 'latest' (events published after it was created). */
  readonly from?: 'latest' | 'earliest';
  /**
   * 'member': events of one key are handled in order by the member that receives them, which needs
   * a broker that hands them out in order (`capabilities.keyOrderWithinMember`; not SQS standard).
   * 'group': also across members, which only a transport that routes a key to one member can
   * promise (`capabilities.keyOrderAcrossMembers`). Asked for where the transport cannot keep it,
   * subscribing fails with UnsupportedOptionError. Default (not given): handle() keeps per-key order
   * within the member as far as the transport delivers it, and nothing is refused.
   */
  readonly keyOrder?: 'member' | 'group';
}

export interface CloseOptions {
  /**
   * How long in-flight handlers may take to finish before the rest is given back for redelivery:
   * the bound on how long close() waits for them (a handler that never resolves holds close() this
   * long, then its delivery is given back; handle()'s own `timeoutMs` ends it sooner). close() logs
   * what it waits for after 1 s, and what it gave back. Default: 30 s. `Infinity`: no bound. NaN or
   * a negative: close() rejects with a RangeError and the bus stays open.
   */
  readonly drainTimeoutMs?: number;
}

/** How long close() waits quietly before it logs what it is waiting for. */
const CLOSE_QUIET_MS = 1_000;

/** One connection to one broker: publish, consume, schemas, graceful close. */
export class Bus implements DeliveryOrigin {
  readonly transport: Transport;
  readonly source: string;
  readonly schemas = new SchemaRegistry();

  readonly #closing = new Subject<void>();
  readonly #unsettled = new Unsettled();
  readonly #publishing = new Set<Promise<unknown>>();
  #state: 'open' | 'closing' | 'closed' = 'open';
  #closed: Promise<void> | undefined;
  #drained: (() => void) | undefined;
  readonly #log: Logger;

  /** `logger` receives the bus's own log lines as given (default: warn and above on stderr). */
  constructor(transport: Transport, options: { source: string; logger?: Logger }) {
    this.transport = transport;
    this.source = options.source;
    this.#log = options.logger ?? leveledLogger();
  }

  /** Publish one event; resolves with the event as sent once the broker durably accepted it. */
  async publish<T>(topic: string, input: EventInput<T>): Promise<SwitchyardEvent<T>> {
    const [event] = await this.publishBatch(topic, [input]);
    return event!;
  }

  /** Publish several events in as few round trips as the broker allows. Nothing is sent if any is invalid. */
  async publishBatch<T>(topic: string, inputs: readonly EventInput<T>[]): Promise<SwitchyardEvent<T>[]> {
    const events: SwitchyardEvent<T>[] = [];
    const wires: WireMessage[] = [];
    for (const input of inputs) {
      const event = this.#envelope(input);
      // Only an asynchronous schema costs a wait; without one, or with JSON Schema, none.
      const checking = this.schemas.check(event.type, event.data);
      if (checking !== undefined) await checking;
      events.push(event);
      // Validated by #envelope (createEvent), so a consumer in this process need not again.
      wires.push(encodeChecked(event));
    }
    await this.#publishWire(topic, wires, events);
    return events;
  }

  /** The event publish() would send (id, time, source, dataversion; schema checked), not sent. */
  async buildEvent<T>(input: EventInput<T>): Promise<SwitchyardEvent<T>> {
    const event = this.#envelope(input);
    const checking = this.schemas.check(event.type, event.data);
    if (checking !== undefined) await checking;
    return event;
  }

  #envelope<T>(input: EventInput<T>): SwitchyardEvent<T> {
    const version = this.schemas.versionOf(input.type);
    return createEvent(
      version === undefined
        ? input
        : { ...input, extensions: { ...input.extensions, dataversion: String(version) } },
      this.source,
    );
  }

  /** Publish already-encoded messages (dead letters, replays) unchanged. */
  publishWire(topic: string, messages: readonly WireMessage[]): Promise<void> {
    return this.#publishWire(topic, messages, undefined);
  }

  /** `events`: what publishBatch() returns, given the trace headers an instrumentation wrote. */
  #publishWire(
    topic: string,
    messages: readonly WireMessage[],
    events: SwitchyardEvent[] | undefined,
  ): Promise<void> {
    if (this.#state === 'closed') return Promise.reject(new ClosedError());
    try {
      assertTopicName(topic);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.instrumentation !== undefined)
      return instrumentedSend(this.instrumentation, topic, messages, events, this.#send);
    return this.#send(messages, topic);
  }

  readonly #send = (messages: readonly WireMessage[], topic: string): Promise<void> => {
    const limit = this.transport.capabilities.maxMessageBytes;
    for (let index = 0; index < messages.length; index++) {
      const message = messages[index]!;
      if (encodedSizeBound(message) <= limit) continue;
      const size = encodedSize(message);
      if (size > limit) return Promise.reject(new MessageTooLargeError(size, limit, index));
    }
    const publishing = this.transport
      .publish(topic, messages)
      .then((receipt) => this.#reportDuplicates(topic, messages, receipt));
    this.#publishing.add(publishing);
    const forget = () => this.#publishing.delete(publishing);
    publishing.then(forget, forget);
    return publishing;
  };

  // ---- instrumentation (#23): tracing and metrics, see ops/instrumentation.ts ----
  /** Told of every send and every delivery handle() takes; undefined (the default): nothing is. */
  instrumentation: Instrumentation | undefined = undefined;

  /** Install `instrumentation` (e.g. @switchyard/otel's), replacing any; undefined removes it. */
  instrument(instrumentation: Instrumentation | undefined): this {
    this.instrumentation = instrumentation;
    return this;
  }

  /**
   * The broker dropped these as repeats of an event id it holds (JetStream's duplicate window):
   * publish resolves as for stored events, so the drop is said here, one line per event id.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: what Transport.publish resolves
  #reportDuplicates(topic: string, messages: readonly WireMessage[], receipt: void | PublishReceipt): void {
    for (const index of receipt?.duplicates ?? []) {
      this.#log({
        level: 'warn',
        namespace: 'bus',
        message: `'${topic}': the broker dropped event ${messages[index]?.headers.id ?? `#${index}`} as a repeat of an id it already holds: not stored, this publish delivers nothing`,
      });
    }
  }

  /** Create the topic and groups ahead of time, so events published from now on wait for them. */
  async provision(topic: string, options: { groups?: readonly string[]; from?: 'latest' | 'earliest' } = {}) {
    assertTopicName(topic);
    for (const group of options.groups ?? []) assertGroupName(topic, group);
    await this.transport.provision(topic);
    for (const group of options.groups ?? []) await this.transport.provision(topic, group, options.from);
  }

  /**
   * A cold stream of deliveries for `group`; subscribing joins the group, unsubscribing leaves it.
   * Messages that cannot be decoded or fail their schema arrive as deliveries with `invalid` set.
   */
  consume<T = unknown>(topic: string, options: ConsumeOptions): Observable<Delivery<T>> {
    const subscribeOptions = {
      group: options.group,
      prefetch: options.prefetch ?? 256,
      ...(options.from ? { from: options.from } : {}),
    };
    return new Observable<Delivery<T>>((subscriber) => {
      if (this.#state !== 'open') {
        subscriber.error(new ClosedError());
        return;
      }
      try {
        assertGroupName(topic, options.group);
      } catch (error) {
        subscriber.error(error);
        return;
      }
      try {
        if (options.prefetch !== undefined) positiveInteger('prefetch', options.prefetch);
      } catch (error) {
        subscriber.error(error);
        return;
      }
      const refusal = this.#refuse(options);
      if (refusal) {
        subscriber.error(refusal);
        return;
      }
      return intake<T>(
        this.transport.subscribe(topic, subscribeOptions),
        this.#closing,
        (raw) => this.#toDelivery<T>(topic, options.group, subscribeOptions.prefetch, raw),
        subscriber,
      );
    });
  }

  /** Options this transport cannot honour are refused at subscribe time, not discovered in production. */
  #refuse(options: ConsumeOptions): UnsupportedOptionError | undefined {
    const { capabilities, name } = this.transport;
    if (options.keyOrder !== undefined && !capabilities.keyOrderWithinMember) {
      return new UnsupportedOptionError(
        `keyOrder '${options.keyOrder}' needs a transport that hands a member a key's events in publish order; ${name} does not (capabilities.keyOrderWithinMember is false)`,
      );
    }
    if (options.keyOrder === 'group' && !capabilities.keyOrderAcrossMembers) {
      return new UnsupportedOptionError(
        `keyOrder 'group' needs a transport that routes a key to one group member; ${name} does not (capabilities.keyOrderAcrossMembers is false)`,
      );
    }
    if (options.from === 'earliest' && !capabilities.replay) {
      return new UnsupportedOptionError(
        `from 'earliest' needs a transport that can replay; ${name} cannot (capabilities.replay is false)`,
      );
    }
    return undefined;
  }

  /** The delivery, decoded and checked: at once, or a promise when an asynchronous schema checks it. */
  #toDelivery<T>(
    topic: string,
    group: string,
    prefetch: number,
    raw: TransportDelivery,
  ): BusDelivery<T> | Promise<BusDelivery<T>> {
    const delivery = new BusDelivery<T>(topic, group, raw, this, this.#forget, prefetch);
    this.#unsettled.add(delivery as BusDelivery);
    let admitted: SwitchyardEvent<T> | Promise<SwitchyardEvent<T>>;
    try {
      admitted = this.schemas.admit<T>(decode(raw.message));
    } catch (error) {
      delivery.invalid = error as Error;
      return delivery;
    }
    if (!(admitted instanceof Promise)) {
      delivery.event = admitted;
      return delivery;
    }
    return admitted.then(
      (event) => {
        delivery.event = event;
        return delivery;
      },
      (error: unknown) => {
        delivery.invalid = error as Error;
        return delivery;
      },
    );
  }

  readonly #forget = (delivery: BusDelivery): void => {
    this.#unsettled.delete(delivery);
    if (this.#unsettled.size === 0) this.#drained?.();
  };

  // Operations (#23): inspect. The logic is in ops/inspect.ts; the bus keeps each group's readings.
  readonly #inspections = new InspectionWindows();

  /**
   * The group's backlog, in flight, oldest age and dead letters as the broker counts them, and a
   * status from this bus's recent readings of it (OK / WARN / STALL / STOP). A plain JSON object.
   * Rejects with UnsupportedOperationError where the transport cannot inspect, NotFoundError for a
   * topic or group the broker does not have.
   */
  inspect(topic: string, options: InspectOptions): Promise<Inspection> {
    if (this.#state === 'closed') return Promise.reject(new ClosedError());
    return inspectGroup(this.transport, this.#inspections, topic, options);
  }

  // Operations (#23): dead letters. The logic is in ops/dead-letters*.ts.
  /**
   * The group's dead letters (its DLQ topic, read through DEAD_LETTER_GROUP): `groups()` counts them
   * by reason and type, `inspect()` shows them without consuming, `redrive()` republishes them.
   */
  deadLetters(topic: string, options: DeadLettersOptions): DeadLetters {
    return deadLetters(this, topic, options);
  }

  get closing(): boolean {
    return this.#state !== 'open';
  }

  /** Deliveries handed out and not yet settled (for drain and metrics). */
  get unsettled(): number {
    return this.#unsettled.size;
  }

  /**
   * Stop intake, let in-flight handlers finish (up to `drainTimeoutMs`), give back what did not,
   * wait for pending publishes, then close the transport. Safe to call more than once.
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (this.#closed === undefined) {
      // A typo (NaN, a negative) would otherwise give every handler 1 ms; refused, the bus stays
      // open and a second close() with a good value closes it.
      let drainTimeoutMs: number;
      try {
        drainTimeoutMs = nonNegative('drainTimeoutMs', options.drainTimeoutMs ?? 30_000);
      } catch (error) {
        return Promise.reject(error);
      }
      this.#closed = this.#close(drainTimeoutMs);
    }
    return this.#closed;
  }

  /** The unsettled deliveries for a log line: how many, and how many per topic and group. */
  #waitingFor(): string {
    const perGroup = new Map<string, number>();
    for (const delivery of this.#unsettled.toArray()) {
      const where = `${delivery.topic} / ${delivery.group}`;
      perGroup.set(where, (perGroup.get(where) ?? 0) + 1);
    }
    const shown = [...perGroup].slice(0, 5).map(([where, count]) => `${where}: ${count}`);
    if (perGroup.size > shown.length) shown.push(`and ${perGroup.size - shown.length} more groups`);
    const count = this.#unsettled.size;
    return `${count} ${count === 1 ? 'delivery' : 'deliveries'} not yet settled (in a handler or queued for one) on ${shown.join(', ')}`;
  }

  async #close(drainTimeoutMs: number): Promise<void> {
    this.#state = 'closing';
    this.#closing.next();
    this.#closing.complete();
    if (this.#unsettled.size > 0) {
      this.#log({
        level: 'info',
        namespace: 'bus',
        message: `close() waits up to ${drainTimeoutMs} ms (drainTimeoutMs) for ${this.#waitingFor()}`,
      });
      // A handler that never resolves holds close() to the deadline: say so rather than hang silently.
      const quiet =
        drainTimeoutMs > CLOSE_QUIET_MS
          ? setTimeout(
              () =>
                this.#log({
                  level: 'warn',
                  namespace: 'bus',
                  message: `close() has waited ${CLOSE_QUIET_MS} ms for ${this.#waitingFor()}; ${
                    Number.isFinite(drainTimeoutMs)
                      ? `it gives them back for redelivery ${drainTimeoutMs - CLOSE_QUIET_MS} ms from now`
                      : 'it waits for them without a bound'
                  } (drainTimeoutMs ${drainTimeoutMs})`,
                }),
              CLOSE_QUIET_MS,
            )
          : undefined;
      await bounded(
        new Promise<void>((resolve) => {
          this.#drained = resolve;
        }),
        drainTimeoutMs,
      );
      clearTimeout(quiet);
      // Past the deadline: hand back what is still unsettled so it is redelivered, not lost.
      if (this.#unsettled.size > 0) {
        this.#log({
          level: 'warn',
          namespace: 'bus',
          message: `close() gives back for redelivery, after ${drainTimeoutMs} ms (drainTimeoutMs), ${this.#waitingFor()}`,
        });
      }
      const reason = new ClosedError(
        'bus (close() gave the delivery back for redelivery at its drainTimeoutMs)',
      );
      await Promise.allSettled(this.#unsettled.toArray().map((s) => s.giveBack(reason)));
    }
    await Promise.allSettled([...this.#publishing]);
    this.#state = 'closed';
    await this.transport.close();
  }
}
