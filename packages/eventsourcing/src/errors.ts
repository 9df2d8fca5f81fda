import { SwitchyardError } from '@switchyard/core';
import type { ExpectedVersion } from './types.ts';

/** An append's expected version did not hold: someone else appended first. Load and decide again. */
export class ConcurrencyError extends SwitchyardError {
  override name = 'ConcurrencyError';
  readonly streamId: string;
  readonly expected: ExpectedVersion;
  /** The stream's version when the append was refused (0: no stream), when the backend knows it. */
  readonly actual: number | undefined;
  constructor(streamId: string, expected: ExpectedVersion, actual?: number) {
    super(
      `Stream '${streamId}' expected version ${String(expected)}` +
        (actual === undefined ? '' : `, but it is at ${actual}`),
    );
    this.streamId = streamId;
    this.expected = expected;
    this.actual = actual;
  }
}

/** Another runner or rebuild holds this projection version. */
export class ProjectionBusyError extends SwitchyardError {
  override name = 'ProjectionBusyError';
}

/** An event store was used wrongly (bad stream id, non-JSON data, closed store...). */
export class EventStoreError extends SwitchyardError {
  override name = 'EventStoreError';
}

/**
 * A projection stopped on an event its handler kept failing on (`onPoison: 'stop'`). The checkpoint
 * stays before the event; `cause` is the handler's last error.
 */
export class ProjectionHaltedError extends SwitchyardError {
  override name = 'ProjectionHaltedError';
  readonly projection: string;
  readonly version: number;
  readonly eventId: string;
  readonly streamId: string;
  readonly streamVersion: number;
  readonly attempts: number;
  constructor(
    projection: { readonly name: string; readonly version: number },
    stored: {
      readonly event: { readonly id: string; readonly type: string };
      readonly streamId: string;
      readonly version: number;
    },
    attempts: number,
    cause: Error,
  ) {
    super(
      `Projection '${projection.name}' version ${projection.version} stopped at event '${stored.event.id}'` +
        ` (${stored.event.type}, ${stored.streamId}@${stored.version}) after ${attempts} attempt(s): ${cause.message}`,
      { cause },
    );
    this.projection = projection.name;
    this.version = projection.version;
    this.eventId = stored.event.id;
    this.streamId = stored.streamId;
    this.streamVersion = stored.version;
    this.attempts = attempts;
  }
}
