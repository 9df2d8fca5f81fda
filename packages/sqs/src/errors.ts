import { SwitchyardError, TransportError } from '@switchyard/core';

// AWS SDK errors carry a name (the service's error code), an HTTP status and a message that never
// holds credentials; network errors carry a Node code. Emulators answering the JSON protocol
// sometimes name errors by their query-protocol code, so both spellings are recognised.

interface AwsLikeError {
  readonly name?: string;
  readonly code?: string;
  readonly Code?: string;
  readonly message?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

function codesOf(error: unknown): string[] {
  const e = (error ?? {}) as AwsLikeError;
  return [e.name, e.code, e.Code].filter((c): c is string => typeof c === 'string');
}

function hasCode(error: unknown, pattern: RegExp): boolean {
  return codesOf(error).some((code) => pattern.test(code));
}

export function isQueueMissing(error: unknown): boolean {
  return hasCode(error, /QueueDoesNotExist|NonExistentQueue/);
}

export function isQueueNameTaken(error: unknown): boolean {
  return hasCode(error, /QueueNameExists|QueueAlreadyExists/);
}

export function isAbort(error: unknown): boolean {
  return hasCode(error, /^AbortError$|ABORT_ERR/);
}

/** Errors that retrying a receive will not cure: the queue is gone or we are not allowed. */
export function isPermanent(error: unknown): boolean {
  return (
    isQueueMissing(error) ||
    hasCode(
      error,
      /AccessDenied|InvalidClientTokenId|UnrecognizedClient|SignatureDoesNotMatch|InvalidAddress/,
    )
  );
}

/** A reply from the service (any status), as opposed to a connection that failed. */
export function httpStatusOf(error: unknown): number | undefined {
  return (error as AwsLikeError | undefined)?.$metadata?.httpStatusCode;
}

/** Wrap a client error in core's TransportError, naming the action and the code; ours pass through. */
export function transportError(action: string, error: unknown): SwitchyardError {
  if (error instanceof SwitchyardError) return error;
  const code = codesOf(error)[0] ?? 'Error';
  const message = (error as AwsLikeError | undefined)?.message ?? String(error);
  return new TransportError(`SQS ${action} failed: ${code}: ${message}`, { cause: error });
}
