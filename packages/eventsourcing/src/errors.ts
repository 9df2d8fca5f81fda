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
