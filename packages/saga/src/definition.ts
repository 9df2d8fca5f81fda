import type { EventInput, SwitchyardEvent } from '@switchyard/core';
import { SagaConfigurationError } from './errors.ts';

/** Event type → the type of its `data`. Timer names are event types too, with TimeoutData. */
export type SagaEvents = Record<string, unknown>;

/** What a timeout event carries: the timer it came from and the token that must still be current. */
export interface TimeoutData {
  readonly saga: string;
  readonly correlationId: string;
  readonly timer: string;
  readonly token: string;
  /** Whatever `ctx.schedule(name, { data })` passed. */
  readonly data?: unknown;
}

/** A compensating command: where it goes and what it is. */
export type Compensation<D = unknown> = EventInput<D> & { readonly topic: string };

export interface ScheduleOptions {
  /** Fire this long after the transition commits (the database's clock for a PostgreSQL store). */
  readonly afterMs: number;
  /** Carried in the timeout event's `data.data`. */
  readonly data?: unknown;
}

/**
 * What a transition may do besides returning the next state. Nothing happens at the call: the
 * effects are committed with the new state, in one transaction for a store with an outbox, and
 * dropped if the transition throws or loses a version race.
 */
export interface SagaContext<S> {
  /** The saga instance this event belongs to. */
  readonly correlationId: string;
  /** Send a command. Default key: the correlation id, so one instance's commands stay in order. */
  send<D>(topic: string, input: EventInput<D>): void;
  /** Publish an event; the same as send, named for what it is. */
  publish<D>(topic: string, input: EventInput<D>): void;
  /** (Re)arm timer `name`: its timeout event arrives as an event of type `name`. A re-schedule replaces it. */
  schedule(name: string, options: ScheduleOptions): void;
  /** Disarm timer `name`; a timeout already on its way is ignored when it arrives. */
  cancel(name: string): void;
  /** End the saga with `state`: its timers are dropped and every later event for it is ignored. */
  complete(state: S): S;
  /**
   * Send the compensations of the steps that completed, given in the order those steps completed:
   * they go out in reverse (the last completed step is undone first), after anything sent before.
   */
  compensate(steps: readonly Compensation[]): void;
}

/** `(state, event, ctx) => nextState`. May be async, but should only decide: effects go through ctx. */
export type Transition<S, D> = (state: S, event: SwitchyardEvent<D>, ctx: SagaContext<S>) => S | Promise<S>;

export interface SagaDefinitionInput<S, E extends SagaEvents> {
  /** Unique per saga type; part of every stored key. */
  readonly name: string;
  /** The instance an event belongs to (e.g. `e.data.orderId`). Timeout events find theirs by themselves. */
  readonly correlate: (event: SwitchyardEvent<Exclude<E[keyof E], TimeoutData>>) => string | undefined;
  /** The state of a new instance, or how to make it from the event that starts it. */
  readonly initial: S | ((event: SwitchyardEvent<Exclude<E[keyof E], TimeoutData>>) => S);
  /** One transition per event type (and per timer name). Events of other types are acked and ignored. */
  readonly on: { readonly [K in keyof E & string]?: Transition<S, E[K]> };
  /**
   * Event types that may start an instance. An event of another type for an instance that does not
   * exist is ignored (as NServiceBus does for "saga not found"). Default: any type in `on`.
   */
  readonly startedBy?: readonly (keyof E & string)[];
}

export interface SagaDefinition<S, E extends SagaEvents = SagaEvents> extends SagaDefinitionInput<S, E> {
  readonly kind: 'saga';
}

const NAME = /^[A-Za-z0-9_.:-]{1,100}$/;

/** Define a saga (process manager): a state machine keyed by correlation id. */
export function saga<S, E extends SagaEvents = SagaEvents>(
  definition: SagaDefinitionInput<S, E>,
): SagaDefinition<S, E> {
  if (!NAME.test(definition.name)) {
    throw new SagaConfigurationError(
      `Saga name '${String(definition.name).slice(0, 40)}' must be 1-100 letters, digits or _ . : -`,
    );
  }
  if (typeof definition.correlate !== 'function') {
    throw new SagaConfigurationError(`Saga '${definition.name}' needs a correlate function`);
  }
  for (const type of definition.startedBy ?? []) {
    if (definition.on[type] === undefined) {
      throw new SagaConfigurationError(
        `Saga '${definition.name}' is startedBy '${type}' but has no transition for it`,
      );
    }
  }
  return Object.freeze({ ...definition, kind: 'saga' as const });
}
