import {
  type Delivery,
  exponentialBackoff,
  type HandleOptions,
  type HandlerContext,
  handle,
  NonRetryableError,
  type Outcome,
  type SwitchyardEvent,
} from '@switchyard/core';
import { encode } from '@switchyard/core/transport';
import type { OperatorFunction } from 'rxjs';
import { Effects, TOKEN_ATTRIBUTE } from './context.ts';
import type { SagaDefinition, SagaEvents, TimeoutData } from './definition.ts';
import type { OutgoingMessage, SagaStore } from './store.ts';

/** What happened to one event, for logs and timelines (`observe`). */
export interface SagaStep<S = unknown> {
  readonly saga: string;
  readonly correlationId: string;
  readonly event: SwitchyardEvent;
  /**
   * transitioned: committed. duplicate: this event was committed before. completed: the instance had
   * ended. stale: a timeout that was cancelled, replaced or already handled. notStarted: no instance
   * and the event is not one that starts it.
   */
  readonly result: 'transitioned' | 'duplicate' | 'completed' | 'stale' | 'notStarted';
  readonly state?: S;
  readonly completed?: boolean;
  readonly messages?: readonly OutgoingMessage[];
}

export interface RunSagaOptions<S = unknown> extends Omit<HandleOptions, 'key' | 'idempotency'> {
  readonly store: SagaStore;
  /**
   * Where timeout events go; the saga must consume it (usually the topic it already consumes).
   * Required once a transition calls ctx.schedule.
   */
  readonly timeoutTopic?: string;
  /** Called after each event with what it did (after the commit, before any dispatch). */
  readonly observe?: (step: SagaStep<S>) => void;
}

/**
 * Retry a version conflict soon and often: it only means another instance got there first, and
 * the next attempt applies the event to the state that won. Default: 20 attempts from 5 ms.
 */
const SAGA_RETRY = {
  maxAttempts: 20,
  backoff: exponentialBackoff({ initialMs: 5, maxMs: 1_000, jitter: 'full' }),
};

/** Committed-but-unpublished message sets kept for a retry (stores without an outbox). */
const UNDISPATCHED_KEPT = 10_000;

/** The TimeoutData of a timeout event for saga `name`, else undefined. */
function timeoutOf(name: string, event: SwitchyardEvent): TimeoutData | undefined {
  if (event.extensions[TOKEN_ATTRIBUTE] === undefined) return undefined;
  const data = event.data as TimeoutData | undefined;
  return data?.saga === name && data.token === event.extensions[TOKEN_ATTRIBUTE] ? data : undefined;
}

/**
 * Run `definition` over a stream of deliveries: handle() keyed by correlation id (one instance's
 * events in order, several instances at once), each event loaded → transitioned → committed with
 * its effects. A version conflict with another process is a retryable SagaConcurrencyError; the
 * store's handled ids make a redelivered event a no-op. Every delivery is settled by handle().
 */
export function runSaga<S, E extends SagaEvents>(
  definition: SagaDefinition<S, E>,
  options: RunSagaOptions<S>,
): OperatorFunction<Delivery<unknown>, Outcome<unknown>> {
  const { store, timeoutTopic, observe, ...handleOptions } = options;
  const name = definition.name;
  const on = definition.on as Record<string, SagaDefinition<S, SagaEvents>['on'][string]>;
  const starters = definition.startedBy === undefined ? undefined : new Set<string>(definition.startedBy);
  const initialOf =
    typeof definition.initial === 'function'
      ? (definition.initial as (event: SwitchyardEvent) => S)
      : () => structuredClone(definition.initial as S);

  const correlationOf = (event: SwitchyardEvent): string | undefined => {
    if (on[event.type] === undefined) return undefined;
    const timeout = timeoutOf(name, event);
    if (timeout !== undefined) return timeout.correlationId;
    return definition.correlate(event as Parameters<typeof definition.correlate>[0]);
  };

  const step = async (event: SwitchyardEvent, context: HandlerContext): Promise<void> => {
    const transition = on[event.type];
    if (transition === undefined) return;
    const correlationId = correlationOf(event);
    if (typeof correlationId !== 'string' || correlationId === '') {
      throw new NonRetryableError(`Saga '${name}': no correlation id for event ${event.id} (${event.type})`);
    }
    const report = (result: SagaStep<S>['result'], extra?: Partial<SagaStep<S>>) =>
      observe?.({ saga: name, correlationId, event, result, ...extra });

    const record = await store.load<S>(name, correlationId);
    if (record?.completed) return report('completed');
    const timeout = timeoutOf(name, event);
    if (timeout !== undefined && record?.timers[timeout.timer] !== timeout.token) return report('stale');
    if (record === undefined && starters !== undefined && !starters.has(event.type)) {
      return report('notStarted');
    }

    const timers = { ...record?.timers };
    // A timeout being handled has fired: its token is spent, so a second copy of it is stale.
    if (timeout !== undefined) delete timers[timeout.timer];
    const effects = new Effects<S>({
      saga: name,
      correlationId,
      cause: event,
      source: context.delivery.origin.source,
      timeoutTopic,
      timers,
    });
    const state = record === undefined ? initialOf(event) : record.state;
    const next = await transition(state, event as SwitchyardEvent<never>, effects);
    const result = await store.commit<S>({
      saga: name,
      correlationId,
      eventId: event.id,
      expectedVersion: record?.version ?? 0,
      state: next,
      completed: effects.completed,
      timers: effects.completed ? {} : effects.timers,
      schedule: effects.completed ? [] : effects.scheduled,
      cancel: effects.cancelled,
      messages: effects.messages,
    });
    if (result.status === 'duplicate') {
      report('duplicate');
      // Committed by an earlier attempt here whose publish failed: publish what it left.
      const left = undispatched.get(event.id);
      if (left !== undefined) await publishCommitted(context, event.id, left);
      return;
    }
    report('transitioned', { state: next, completed: effects.completed, messages: effects.messages });
    if (result.dispatch.length > 0) await publishCommitted(context, event.id, result.dispatch);
  };

  /**
   * Messages a store without an outbox handed back: committed, so they must go out. If the publish
   * fails they are kept for the retry, which finds the event a duplicate and publishes them then.
   * (A crash loses them: that is what the outbox is for.)
   */
  const undispatched = new Map<string, readonly OutgoingMessage[]>();
  const publishCommitted = async (
    context: HandlerContext,
    eventId: string,
    messages: readonly OutgoingMessage[],
  ): Promise<void> => {
    try {
      await dispatch(context.delivery.origin, messages);
      undispatched.delete(eventId);
    } catch (error) {
      undispatched.set(eventId, messages);
      if (undispatched.size > UNDISPATCHED_KEPT) undispatched.delete(undispatched.keys().next().value!);
      throw error;
    }
  };

  return handle<unknown>(step, {
    concurrency: 16,
    ...handleOptions,
    retry: { ...SAGA_RETRY, ...handleOptions.retry },
    key: correlationOf,
  });
}

/** Publish committed messages in order, consecutive ones to the same topic in one batch. */
export async function dispatch(
  bus: { publishWire(topic: string, messages: readonly ReturnType<typeof encode>[]): Promise<void> },
  messages: readonly OutgoingMessage[],
): Promise<void> {
  let start = 0;
  while (start < messages.length) {
    const topic = messages[start]!.topic;
    let end = start + 1;
    while (end < messages.length && messages[end]!.topic === topic) end++;
    await bus.publishWire(
      topic,
      messages.slice(start, end).map((message) => encode(message.event)),
    );
    start = end;
  }
}
