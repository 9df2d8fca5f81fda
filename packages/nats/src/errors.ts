import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { ClosedConnectionError, DrainingConnectionError } from '@nats-io/transport-node';
import { ClosedError, SwitchyardError, TransportError } from '@switchyard/core';

/** A client failure as one of core's typed errors; the client's own error stays as `cause`. */
export function toSwitchyardError(error: unknown, doing: string): Error {
  if (error instanceof SwitchyardError) return error;
  if (error instanceof ClosedConnectionError || error instanceof DrainingConnectionError) {
    return new ClosedError('nats transport');
  }
  // Client messages name subjects and servers as host:port only; credentials never reach them.
  const reason = error instanceof Error ? error.message : String(error);
  return new TransportError(`NATS ${doing} failed: ${reason}`, { cause: error });
}

export function isStreamNotFound(error: unknown): boolean {
  return apiCode(error) === JetStreamApiCodes.StreamNotFound || messageOf(error) === 'stream not found';
}

export function isConsumerNotFound(error: unknown): boolean {
  return apiCode(error) === JetStreamApiCodes.ConsumerNotFound || messageOf(error) === 'consumer not found';
}

function apiCode(error: unknown): number | undefined {
  return error instanceof JetStreamApiError ? error.code : undefined;
}

function messageOf(error: unknown): string | undefined {
  return error instanceof Error ? error.message : undefined;
}
