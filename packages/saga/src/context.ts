import { randomUUID } from 'node:crypto';
import { createEvent, type EventInput, type SwitchyardEvent } from '@switchyard/core';
import type { Compensation, SagaContext, ScheduleOptions, TimeoutData } from './definition.ts';
import { SagaConfigurationError } from './errors.ts';
import type { OutgoingMessage, TimerRequest } from './store.ts';

/** Extension attribute naming the token on a timeout event (CloudEvents names: a-z0-9). */
export const TOKEN_ATTRIBUTE = 'sagatoken';

/** The effects of one transition, gathered by its context and committed with the new state. */
export class Effects<S> implements SagaContext<S> {
  readonly correlationId: string;
  readonly messages: OutgoingMessage[] = [];
  readonly scheduled: TimerRequest[] = [];
  readonly cancelled: string[] = [];
  readonly timers: Record<string, string>;
  completed = false;
  readonly #saga: string;
  readonly #cause: SwitchyardEvent;
  readonly #source: string;
  readonly #timeoutTopic: string | undefined;

  constructor(options: {
    saga: string;
    correlationId: string;
    cause: SwitchyardEvent;
    source: string;
    timeoutTopic: string | undefined;
    timers: Record<string, string>;
  }) {
    this.#saga = options.saga;
    this.correlationId = options.correlationId;
    this.#cause = options.cause;
    this.#source = options.source;
    this.#timeoutTopic = options.timeoutTopic;
    this.timers = options.timers;
  }

  /** A follow-up of the event being handled: same conversation, caused by it, keyed by the instance. */
  #build<D>(input: EventInput<D>): SwitchyardEvent<D> {
    const cause = this.#cause;
    return createEvent(
      {
        ...input,
        key: input.key ?? this.correlationId,
        causationid: input.causationid ?? cause.id,
        correlationid: input.correlationid ?? cause.correlationid,
        traceparent: input.traceparent ?? cause.traceparent,
      },
      this.#source,
    );
  }

  send = <D>(topic: string, input: EventInput<D>): void => {
    this.messages.push({ topic, event: this.#build(input) });
  };

  publish = <D>(topic: string, input: EventInput<D>): void => {
    this.send(topic, input);
  };

  schedule = (name: string, options: ScheduleOptions): void => {
    const topic = this.#timeoutTopic;
    if (topic === undefined) {
      throw new SagaConfigurationError(
        `Saga '${this.#saga}' schedules '${name}' but runSaga was given no timeoutTopic`,
      );
    }
    if (!(options.afterMs >= 0)) {
      throw new SagaConfigurationError(`Timer '${name}': afterMs must be a number ≥ 0`);
    }
    const token = randomUUID();
    const data: TimeoutData = {
      saga: this.#saga,
      correlationId: this.correlationId,
      timer: name,
      token,
      ...(options.data === undefined ? {} : { data: options.data }),
    };
    const event = this.#build({ id: token, type: name, data, extensions: { [TOKEN_ATTRIBUTE]: token } });
    const at = this.scheduled.findIndex((request) => request.timer === name);
    if (at >= 0) this.scheduled.splice(at, 1);
    this.scheduled.push({ timer: name, token, afterMs: options.afterMs, topic, event });
    this.timers[name] = token;
  };

  cancel = (name: string): void => {
    const at = this.scheduled.findIndex((request) => request.timer === name);
    if (at >= 0) this.scheduled.splice(at, 1);
    if (!this.cancelled.includes(name)) this.cancelled.push(name);
    delete this.timers[name];
  };

  complete = (state: S): S => {
    this.completed = true;
    return state;
  };

  compensate = (steps: readonly Compensation[]): void => {
    for (let index = steps.length - 1; index >= 0; index--) {
      const { topic, ...input } = steps[index]!;
      this.send(topic, input);
    }
  };
}
