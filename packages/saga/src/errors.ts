import { NonRetryableError, SwitchyardError } from '@switchyard/core';

/**
 * Another instance changed the saga since it was loaded (optimistic concurrency). Retryable: the
 * next attempt loads the new state and applies the event to it.
 */
export class SagaConcurrencyError extends SwitchyardError {
  override name = 'SagaConcurrencyError';
  readonly saga: string;
  readonly correlationId: string;
  constructor(saga: string, correlationId: string, expectedVersion: number) {
    super(
      `Saga '${saga}' instance '${correlationId}' is no longer at version ${expectedVersion}: another instance changed it`,
    );
    this.saga = saga;
    this.correlationId = correlationId;
  }
}

/** A saga definition or its use is wrong (no correlation id, no timeout topic): retrying cannot help. */
export class SagaConfigurationError extends NonRetryableError {
  override name = 'SagaConfigurationError';
}
