import type { SwitchyardEvent } from '@switchyard/core';

/** A message to publish: a fully built CloudEvent, so its id stays the same across re-sends. */
export interface OutgoingMessage {
  readonly topic: string;
  readonly event: SwitchyardEvent;
}

/** One saga instance as stored. */
export interface SagaRecord<S = unknown> {
  readonly state: S;
  /** Bumped by every commit; the next commit must name it (optimistic concurrency). */
  readonly version: number;
  readonly completed: boolean;
  /** Armed timers: name → token. A timeout whose token is not here is stale and ignored. */
  readonly timers: Readonly<Record<string, string>>;
}

/** A timer to (re)arm: replaces the armed one of the same name. */
export interface TimerRequest {
  readonly timer: string;
  readonly token: string;
  readonly afterMs: number;
  /** Where its timeout event goes. */
  readonly topic: string;
  /** The timeout event (id = token); its `time` is set when it fires. */
  readonly event: SwitchyardEvent;
}

/** The result of one transition, committed all or nothing. */
export interface SagaChange<S = unknown> {
  readonly saga: string;
  readonly correlationId: string;
  /** The event that caused it: a second commit for the same id is a duplicate. */
  readonly eventId: string;
  /** The version loaded; 0 when the instance did not exist (the commit then creates it). */
  readonly expectedVersion: number;
  readonly state: S;
  readonly completed: boolean;
  /** The armed timers after this transition (name → token). */
  readonly timers: Readonly<Record<string, string>>;
  readonly schedule: readonly TimerRequest[];
  /** Timer names to disarm (all of them are dropped anyway when `completed`). */
  readonly cancel: readonly string[];
  /** Commands and events, in order. */
  readonly messages: readonly OutgoingMessage[];
}

export type SagaCommitResult =
  /** Committed. `dispatch`: what the caller must publish now (empty when the store has an outbox). */
  | { readonly status: 'committed'; readonly dispatch: readonly OutgoingMessage[] }
  /** This event was committed before: nothing was written. */
  | { readonly status: 'duplicate' };

/**
 * Where sagas keep their state, the ids of the events they handled and their timers.
 * Stores: memorySagaStore() here, pgSagaStore() in @switchyard/postgres.
 */
export interface SagaStore {
  load<S>(saga: string, correlationId: string): Promise<SagaRecord<S> | undefined>;
  /**
   * Write `change` atomically: the event id (a duplicate → `duplicate`, nothing written), the state
   * if the version still is `expectedVersion` (else SagaConcurrencyError, nothing written), the
   * timers, and the messages (into the outbox when the store has one, else returned to dispatch).
   */
  commit<S>(change: SagaChange<S>): Promise<SagaCommitResult>;
  /**
   * Fire up to `limit` due timers: mark each fired and emit its timeout event, together. A store
   * with an outbox writes the events there in the same transaction and never calls `emit`; one
   * without calls `emit` while it holds the timers and marks them fired only if emit succeeds
   * (a crash in between re-emits the same event id, which the saga then drops as a duplicate).
   * Several pollers may call this at once: each due timer fires once. Returns how many fired.
   */
  fireDueTimers(
    limit: number,
    emit: (messages: readonly OutgoingMessage[]) => Promise<void>,
  ): Promise<number>;
}
